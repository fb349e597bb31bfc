import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { FileTypeValidator } from '@nestjs/common';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * package.json says which Node versions Tripline runs on (`engines.node`); every package in
 * package-lock.json must accept them, or `npm ci` warns EBADENGINE and the package may not work there.
 * Checked: the lowest version the range claims (what an upgrade that raises a dependency's floor breaks)
 * and the Node running the tests, when the range claims it (what CI runs; what `npm ci` checks). Many
 * packages skip odd or early releases of a line (`^20.19.0 || >=22.12.0`), so not every claimed version is
 * checked. See docs/development.md, "Node version".
 */

interface Semver {
  validRange(range: string): string | null;
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
}
// semver is the parser npm itself uses; it ships no types of its own.
const semver = createRequire(import.meta.url)('semver') as Semver;

/**
 * Packages that may ask for a Node version that package.json claims but they exclude: `name@version` and
 * why it was decided that they stay. Empty: the three that asked for Node 22 (content-disposition,
 * cookie, file-type) are pinned under `overrides` in package.json to versions that support Node 20.
 */
const ALLOWED = new Map<string, string>([]);

interface LockedPackage {
  version?: string;
  engines?: unknown;
}

const root = join(import.meta.dirname, '..');
const claimed = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;
const locked = Object.entries(
  (
    JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockedPackage>;
    }
  ).packages,
)
  .filter(([path, entry]) => path !== '' && entry.version !== undefined)
  .map(([path, entry]) => {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const engines = entry.engines;
    const node =
      typeof engines === 'object' && engines !== null && 'node' in engines && typeof engines.node === 'string'
        ? engines.node
        : undefined;
    return { id: `${name}@${entry.version ?? ''}`, path, node };
  });

/** The locked packages whose engines.node excludes `version`, less the allow-list, as readable lines. */
function excluding(version: string): string[] {
  return locked
    .filter(({ id, node }) => node !== undefined && !ALLOWED.has(id))
    .filter(({ node }) => semver.validRange(node ?? '') === null || !semver.satisfies(version, node ?? ''))
    .map(({ id, path, node }) => `${id} (${path}) wants node ${node ?? ''}`);
}

const lowest = semver.minVersion(claimed)?.version ?? '';
const running = process.versions.node;
const runningIsClaimed = semver.satisfies(running, claimed);

describe('Node versions (package.json engines against package-lock.json)', () => {
  it('package.json claims a valid range of Node versions, with a lowest one', () => {
    expect(semver.validRange(claimed)).not.toBeNull();
    expect(lowest).toMatch(/^\d+\.\d+\.\d+$/);
    expect(locked.length).toBeGreaterThan(100);
  });

  it(`every locked package accepts the lowest Node that package.json claims (${lowest || claimed})`, () => {
    expect(excluding(lowest)).toEqual([]);
  });

  it.skipIf(!runningIsClaimed)(
    runningIsClaimed
      ? `every locked package accepts the Node running the tests (${running}): npm ci prints no EBADENGINE`
      : `skipped: the Node running the tests (${running}) is outside package.json's engines (${claimed})`,
    () => {
      expect(excluding(running)).toEqual([]);
    },
  );

  it('the allow-list names only locked packages that still exclude a checked Node version, each with a reason', () => {
    for (const [id, reason] of ALLOWED) {
      const entry = locked.find((candidate) => candidate.id === id);
      expect(entry, `${id} is not in package-lock.json`).toBeDefined();
      const node = entry?.node ?? '*';
      expect(
        !semver.satisfies(lowest, node) || (runningIsClaimed && !semver.satisfies(running, node)),
        `${id} (node ${node}) no longer needs an exception`,
      ).toBe(true);
      expect(reason.trim()).not.toBe('');
    }
  });
});

/**
 * The pinned (overridden) versions still give their dependents what those call, on the Node running the
 * tests: reply.download() of @fastify/static (content-disposition's create), inject()'s cookies of
 * light-my-request (cookie's stringifySetCookie), and Nest's FileTypeValidator (file-type's
 * fileTypeFromBuffer).
 */
describe('dependencies pinned for Node 20 (package.json overrides)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'tripline-engines-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('@fastify/static: reply.download() names the file in Content-Disposition (content-disposition)', async () => {
    writeFileSync(join(folder, 'rates.txt'), 'rates\n');
    const app = Fastify();
    await app.register(fastifyStatic, { root: folder, serve: false });
    app.get('/download', (_request, reply) => reply.download('rates.txt', '€ rates.txt'));
    try {
      const response = await app.inject({ method: 'GET', url: '/download' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-disposition']).toBe(
        `attachment; filename="? rates.txt"; filename*=UTF-8''%E2%82%AC%20rates.txt`,
      );
      expect(response.body).toBe('rates\n');
    } finally {
      await app.close();
    }
  });

  it("light-my-request: inject()'s cookies option sends a Cookie header (cookie)", async () => {
    const app = Fastify();
    app.get('/cookie', (request) => ({ cookie: request.headers.cookie }));
    try {
      const response = await app.inject({
        method: 'GET',
        url: '/cookie',
        cookies: { session: 'a b', theme: 'dark' },
      });
      expect(response.json()).toEqual({ cookie: 'session=a%20b; theme=dark' });
    } finally {
      await app.close();
    }
  });

  it("@nestjs/common: FileTypeValidator reads a file's magic number, not its claimed type (file-type)", async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    const validator = new FileTypeValidator({ fileType: 'image/png' });
    const file = (mimetype: string, buffer: Buffer) => ({ mimetype, buffer, size: buffer.length });
    expect(await validator.isValid(file('application/octet-stream', png))).toBe(true);
    expect(await validator.isValid(file('image/png', Buffer.from('not a picture, only text\n')))).toBe(false);
  });
});
