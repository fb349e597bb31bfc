// The service as a new user starts it: the built main.js, configuration from the environment, an SQLite
// file under ./data of the working directory, and a restart that keeps everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from './support/app.js';
import { REPO_ROOT } from './support/shared.js';

const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

interface Server {
  process: ChildProcess;
  url: string;
  output: () => string;
}

function start(cwd: string, env: Record<string, string> = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'log', ...env },
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (match?.[1]) resolve({ process: child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

/** SIGTERM; resolves true when the process closed by itself (exit 0, or re-raising the signal after closing). */
function stop(server: Server): Promise<boolean> {
  return new Promise((resolve) => {
    server.process.removeAllListeners('exit');
    server.process.on('exit', (code, signal) => resolve(code === 0 || signal === 'SIGTERM'));
    server.process.kill('SIGTERM');
  });
}

function run(cwd: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

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
  });
});
