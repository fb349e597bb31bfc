import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeZip } from '../../test/support/zip.js';
import { ArchiveError, archiveKind, readArchive, writeTarGz } from './archives.js';

const LIMITS = { maxBytes: 1024 * 1024, maxFiles: 100, maxArchiveBytes: 8 * 1024 * 1024 };

const text = (files: { path: string; data: Buffer }[]) =>
  files.map((file) => [file.path, file.data.toString('utf8')]);

describe('archives', () => {
  it('reads back the gzipped tar it writes, long paths included', () => {
    const long = `${'deep/'.repeat(30)}rule.yml`;
    const archive = writeTarGz([
      { path: 'rules/a.yml', data: Buffer.from('RuleID: A\n') },
      { path: 'rules/a.py', data: Buffer.from('def rule(event):\n    return True\n') },
      { path: long, data: Buffer.from('RuleID: Long\n') },
    ]);
    expect(archiveKind(archive)).toBe('tar.gz');
    expect(text(readArchive(archive, LIMITS))).toEqual([
      ['rules/a.yml', 'RuleID: A\n'],
      ['rules/a.py', 'def rule(event):\n    return True\n'],
      [long, 'RuleID: Long\n'],
    ]);
  });

  it('reads stored and deflated zip entries, and skips folders, links and paths that climb out', () => {
    const zip = writeZip([
      { path: 'repo/', unixMode: 0o040755 },
      { path: 'repo/rules/a.yml', data: 'RuleID: A\n' },
      { path: 'repo/rules/a.py', data: 'x = 1\n'.repeat(100), deflate: true },
      { path: 'repo/link.yml', data: '/etc/passwd', unixMode: 0o120777 },
      { path: '../escape.yml', data: 'RuleID: Escape\n' },
    ]);
    expect(archiveKind(zip)).toBe('zip');
    expect(text(readArchive(zip, LIMITS))).toEqual([
      ['repo/rules/a.yml', 'RuleID: A\n'],
      ['repo/rules/a.py', 'x = 1\n'.repeat(100)],
    ]);
  });

  it('reads only the files it is asked to keep', () => {
    const zip = writeZip([
      { path: 'a.yml', data: 'RuleID: A\n' },
      { path: 'big.bin', data: Buffer.alloc(2 * 1024 * 1024), deflate: true },
    ]);
    expect(text(readArchive(zip, { ...LIMITS, keep: (path) => path.endsWith('.yml') }))).toEqual([
      ['a.yml', 'RuleID: A\n'],
    ]);
  });

  it('stops at its bounds: what files expand to, how many there are, what a gzip stream inflates to', () => {
    const big = writeZip([{ path: 'a.yml', data: Buffer.alloc(2 * 1024 * 1024), deflate: true }]);
    expect(() => readArchive(big, LIMITS)).toThrow(/expands to more than 1048576 bytes/);
    const many = writeTarGz(
      Array.from({ length: 101 }, (_, index) => ({ path: `f${index}.yml`, data: Buffer.from('x') })),
    );
    expect(() => readArchive(many, LIMITS)).toThrow(/more than 100 files/);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(() => readArchive(bomb, LIMITS)).toThrow(ArchiveError);
  });

  it('says what is wrong with a body that is no archive, or a damaged one', () => {
    expect(() => readArchive(Buffer.from('RuleID: A\n'), LIMITS)).toThrow(
      /neither a zip file nor a tar file/,
    );
    const zip = writeZip([{ path: 'a.yml', data: 'RuleID: A\n' }]);
    expect(() => readArchive(zip.subarray(0, zip.length - 30), LIMITS)).toThrow(ArchiveError);
    expect(() => readArchive(gzipSync(Buffer.from('not a tar')), LIMITS)).toThrow(/does not hold a tar file/);
  });
});
