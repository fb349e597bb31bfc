// The service as a new user starts it: the built main.js, configuration from the environment, an SQLite
// file under ./data of the working directory, and a restart that keeps everything.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from './support/app.js';
import { MAIN, run, start, stop } from './support/process.js';

describe('the server process', () => {
  let workDir = '';

  beforeAll(async () => {
    expect(existsSync(MAIN), 'npm run build first').toBe(true);
    workDir = await mkdtemp(join(tmpdir(), 'tripline-process-'));
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('starts on its SQLite default, serves /docs, keeps rules across a restart', async () => {
    const first = await start(workDir);
    try {
      expect(existsSync(join(workDir, 'data', 'tripline.sqlite'))).toBe(true);
      expect(first.output()).toContain('applied migrations InitialSchema');
      expect((await http(first.url, 'GET', '/docs')).status).toBe(200);
      const document = (await http(first.url, 'GET', '/docs-json')).body;
      const example = document.paths['/v1/rules'].post.requestBody.content['application/yaml'].example;
      const created = await http(first.url, 'POST', '/v1/rules', { body: example });
      expect(created.status).toBe(201);
      expect(created.body.tests.every((test: { passed: boolean }) => test.passed)).toBe(true);
    } finally {
      expect(await stop(first)).toBe(true);
    }
    const second = await start(workDir);
    try {
      expect(second.output()).toContain('schema up to date');
      const versions = await http(
        second.url,
        'GET',
        '/v1/rules/AWS.CloudTrail.VPCE.ExternalPrincipal/versions',
      );
      expect(
        versions.body.items.map((v: { version: number; origin: string }) => [v.version, v.origin]),
      ).toEqual([
        [1, 'builtin'],
        [2, 'api'],
      ]);
    } finally {
      await stop(second);
    }
  });

  it('refuses to start on bad configuration, saying which setting and why', async () => {
    const result = await run(workDir, { PORT: 'eighty', DATABASE_URL: 'mysql://db/x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORT: must be a whole number from 0 to 65535, got "eighty"');
    expect(result.stderr).toContain('DATABASE_URL:');
    const rules = await run(workDir, { TRIPLINE_BUILTIN_RULES: join(workDir, 'no-such-dir') });
    expect(rules.code).toBe(1);
    expect(rules.stderr).toContain('TRIPLINE_BUILTIN_RULES:');
  });

  it('stops at once with the reason when the database cannot be opened', async () => {
    for (const url of ['sqlite:/proc/no-such-dir/db.sqlite', `sqlite:${workDir}`]) {
      const started = Date.now();
      const result = await run(workDir, { DATABASE_URL: url, PORT: '0' });
      expect(result.code, url).toBe(1);
      expect(result.stderr, url).toMatch(/^tripline: cannot start \(database /m);
      expect(Date.now() - started, url).toBeLessThan(20_000);
    }
  });
});
