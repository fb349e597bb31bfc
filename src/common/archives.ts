// Zip files and (gzipped) tar files as a list of regular files, read in memory with bounds on what they
// may expand to: a detection-as-code tree sent in one request. Only what a rule tree needs is read:
// stored and deflated zip entries, ustar/GNU/pax tar entries; links, devices and folders are skipped.
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';

export interface ArchiveFile {
  /** The path inside the archive, with / separators and no leading ./ */
  path: string;
  data: Buffer;
}

export interface ArchiveLimits {
  /** What the files kept may hold together once expanded, in bytes. */
  maxBytes: number;
  maxFiles: number;
  /** What a gzipped tar may inflate to as a whole, kept files or not. */
  maxArchiveBytes: number;
  /** Which files to read; the others are skipped unread (default: all). */
  keep?: (path: string) => boolean;
}

export class ArchiveError extends Error {}

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

/** What the bytes are, by their first bytes; undefined when neither a zip nor a (gzipped) tar. */
export function archiveKind(data: Buffer): ArchiveKind | undefined {
  if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (data.length >= 4 && data.readUInt32LE(0) === 0x06054b50) return 'zip'; // an empty zip
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'tar.gz';
  if (data.length >= 512 && data.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

export function readArchive(data: Buffer, limits: ArchiveLimits): ArchiveFile[] {
  const kind = archiveKind(data);
  if (kind === 'zip') return readZip(data, limits);
  if (kind === 'tar') return readTar(data, limits);
  if (kind === 'tar.gz') {
    let tar: Buffer;
    try {
      // The bound applies while inflating: a gzip bomb stops at it.
      tar = gunzipSync(data, { maxOutputLength: limits.maxBytes + 1024 * 1024 });
    } catch (error) {
      throw new ArchiveError(
        `the gzip stream does not inflate: ${reason(error)} (at most ${limits.maxBytes} bytes are taken)`,
      );
    }
    if (archiveKind(tar) !== 'tar') throw new ArchiveError('the gzip stream does not hold a tar file');
    return readTar(tar, limits);
  }
  throw new ArchiveError('the body is neither a zip file nor a tar file (gzipped or not)');
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A path as kept: / separators, no leading ./ or /, no empty or .. segments (nothing is written to disk). */
function cleanPath(raw: string): string | undefined {
  const segments = raw
    .replaceAll('\\', '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 || segments.includes('..')) return undefined;
  return segments.join('/');
}

class Budget {
  private bytes = 0;
  private files = 0;
  constructor(private readonly limits: ArchiveLimits) {}

  take(size: number): void {
    this.bytes += size;
    this.files += 1;
    if (this.bytes > this.limits.maxBytes)
      throw new ArchiveError(`the archive expands to more than ${this.limits.maxBytes} bytes`);
    if (this.files > this.limits.maxFiles)
      throw new ArchiveError(`the archive holds more than ${this.limits.maxFiles} files`);
  }
}

function readZip(data: Buffer, limits: ArchiveLimits): ArchiveFile[] {
  // The central directory, found from its end record (within the last 64 KiB: the comment's bound).
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 65_535); at -= 1) {
    if (data.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new ArchiveError('the zip file has no central directory (truncated?)');
  const entries = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  const budget = new Budget(limits);
  const files: ArchiveFile[] = [];
  for (let index = 0; index < entries; index += 1) {
    if (at + 46 > data.length || data.readUInt32LE(at) !== 0x02014b50)
      throw new ArchiveError('the zip file’s central directory is damaged');
    const flags = data.readUInt16LE(at + 8);
    const method = data.readUInt16LE(at + 10);
    const compressedSize = data.readUInt32LE(at + 20);
    const size = data.readUInt32LE(at + 24);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const externalAttributes = data.readUInt32LE(at + 38);
    const localHeader = data.readUInt32LE(at + 42);
    const name = data.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    const unixType = (externalAttributes >>> 16) & 0o170000;
    if (name.endsWith('/') || (unixType !== 0 && unixType !== 0o100000)) continue; // folders, links
    const path = cleanPath(name);
    if (path === undefined || (limits.keep && !limits.keep(path))) continue;
    if (flags & 0x1) throw new ArchiveError(`${path} is encrypted`);
    if (compressedSize === 0xffffffff || size === 0xffffffff)
      throw new ArchiveError(`${path} is a ZIP64 entry; a rule tree needs none`);
    budget.take(size);
    if (localHeader + 30 > data.length || data.readUInt32LE(localHeader) !== 0x04034b50)
      throw new ArchiveError(`${path}: the zip file is damaged`);
    const start =
      localHeader + 30 + data.readUInt16LE(localHeader + 26) + data.readUInt16LE(localHeader + 28);
    const stored = data.subarray(start, start + compressedSize);
    if (stored.length !== compressedSize) throw new ArchiveError(`${path}: the zip file is truncated`);
    let content: Buffer;
    if (method === 0) content = stored;
    else if (method === 8) {
      try {
        content = inflateRawSync(stored, { maxOutputLength: Math.max(size, 1) });
      } catch (error) {
        throw new ArchiveError(`${path} does not inflate: ${reason(error)}`);
      }
    } else
      throw new ArchiveError(
        `${path} is compressed with method ${method}; only stored and deflated are read`,
      );
    if (content.length !== size) throw new ArchiveError(`${path}: its size does not match the zip directory`);
    files.push({ path, data: content });
  }
  return files;
}

function readTar(data: Buffer, limits: ArchiveLimits): ArchiveFile[] {
  const budget = new Budget(limits);
  const files: ArchiveFile[] = [];
  let longName: string | undefined;
  let at = 0;
  while (at + 512 <= data.length) {
    const header = data.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break; // the end: two empty blocks
    const field = (start: number, length: number) =>
      header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new ArchiveError('the tar file has a damaged header');
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = data.subarray(at + 512, at + 512 + size);
    if (body.length !== size) throw new ArchiveError(`${name}: the tar file is truncated`);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, ''); // GNU: the next entry's long name
      continue;
    }
    if (type === 'x') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      if (path !== undefined) longName = path; // pax: the next entry's path
      continue;
    }
    if (type !== '0' && type !== '7') continue; // folders, links, devices, global pax headers
    const path = cleanPath(name);
    if (path === undefined || (limits.keep && !limits.keep(path))) continue;
    name = path;
    budget.take(size);
    files.push({ path: name, data: Buffer.from(body) });
  }
  return files;
}

/** A gzipped tar of these files (the CLI's `tripline push` sends one). */
export function writeTarGz(files: readonly ArchiveFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const name = Buffer.from(file.path, 'utf8');
    if (name.length > 100) {
      // GNU long name: an entry holding the name, before the file's own header.
      blocks.push(
        tarHeader('././@LongLink', name.length + 1, 'L'),
        pad(Buffer.concat([name, Buffer.alloc(1)])),
      );
    }
    blocks.push(tarHeader(name.length > 100 ? file.path.slice(0, 100) : file.path, file.data.length, '0'));
    blocks.push(pad(file.data));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function tarHeader(name: string, size: number, type: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  // The checksum is summed with its own field as spaces.
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

function pad(data: Buffer): Buffer {
  const remainder = data.length % 512;
  return remainder === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - remainder)]);
}
