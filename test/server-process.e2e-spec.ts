// The service as a new user starts it: the built main.js, configuration from the environment, an SQLite
// file under ./data of the working directory, and a restart that keeps everything.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { http, POSTGRES_ADMIN_URL as POSTGRES_URL, TEST_ADMIN_KEY } from './support/app.js';
import { MAIN, run, start, stop, type Server } from './support/process.js';
import { systemToolSuiteTitle, tmpfsMissing } from './support/system-tools.js';

const READ_ONLY_MOUNT_MISSING = tmpfsMissing();

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

  it('reads a pack of its own while it loads: what does not load is logged and skipped, a restart tests nothing again', async () => {
    const directory = join(workDir, 'pack');
    mkdirSync(directory);
    const rule = (ruleId: string, expected = true) => `AnalysisType: rule
RuleID: ${ruleId}
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "ConsoleLogin"
Tests:
  - Name: login
    ExpectedResult: ${expected}
    Log: { eventName: ConsoleLogin }
`;
    await writeFile(join(directory, 'a.yml'), rule('Own.A'));
    await writeFile(join(directory, 'b.yml'), rule('Own.A'));
    await writeFile(join(directory, 'broken.yml'), 'AnalysisType: rule\nRuleID: [Own.Broken\n');
    await writeFile(join(directory, 'failing.yml'), rule('Own.Failing', false));
    const env = { TRIPLINE_BUILTIN_RULES: directory, DATABASE_URL: `sqlite:${join(workDir, 'own.sqlite')}` };
    const messages = (server: Server) =>
      server
        .output()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: string; context?: string; msg: string })
        .filter((line) => line.context === 'BuiltinPack')
        .map((line) => `${line.level} ${line.msg}`);
    const first = await start(workDir, env);
    try {
      expect(messages(first)).toEqual([
        `error skipped: ${join(directory, 'broken.yml')}:3:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
        `error skipped: ${join(directory, 'b.yml')}:1: error: RuleID Own.A is already defined at ${join(directory, 'a.yml')}:1 [RuleID]`,
        'warn Own.Failing: 1 tests fail; stored disabled',
        `info ${directory}: 2 created`,
      ]);
    } finally {
      expect(await stop(first)).toBe(true);
    }
    const second = await start(workDir, env);
    try {
      expect(messages(second).slice(2)).toEqual([`info ${directory}: 2 unchanged`]);
      const failing = await http(second.url, 'GET', '/v1/rules/Own.Failing');
      expect([failing.body.enabled, failing.body.tests]).toEqual([false, { passed: 0, failed: 1 }]);
    } finally {
      expect(await stop(second)).toBe(true);
    }
  });

  it('logs JSON lines only; an upload the client aborts is logged as aborted, not as an error with a stack', async () => {
    const server = await start(workDir);
    try {
      const { hostname, port } = new URL(server.url);
      const routes = [
        ['/v1/events', 'application/json'],
        ['/v1/rules', 'application/yaml'],
        ['/services/collector/event', 'application/json'],
        ['/_bulk', 'application/x-ndjson'],
      ];
      await Promise.all(
        routes.map(
          ([path, type]) =>
            new Promise<void>((resolve) => {
              const socket = connect(Number(port), hostname, () => {
                socket.write(
                  `POST ${path} HTTP/1.1\r\nHost: tripline\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\nContent-Type: ${type}\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n`,
                );
              });
              // "100 Continue" says the server has taken the request: part of the body, then gone.
              socket.once('data', () => {
                socket.write('[{"a":1},');
                socket.destroy();
              });
              socket.on('close', () => resolve());
              socket.on('error', () => undefined);
            }),
        ),
      );
      await new Promise<void>((resolve) => {
        const logged = () =>
          routes.every(([path]) => server.output().includes(`"msg":"POST ${path} aborted by the client"`));
        const wait = () => (logged() ? resolve() : setTimeout(wait, 50));
        wait();
      });
      const lines = server.output().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      expect(server.output()).not.toMatch(/"level":"error"|\n\s+at /);
    } finally {
      expect(await stop(server)).toBe(true);
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

  /** A failed start: exit 1 and one line that says why, never a logged stack trace. */
  async function expectCannotStart(env: Record<string, string>, reason: RegExp): Promise<void> {
    const result = await run(workDir, { PORT: '0', ...env });
    const label = JSON.stringify(env);
    expect(result.code, label).toBe(1);
    expect(result.stderr.trim().split('\n'), label).toEqual([
      expect.stringMatching(/^tripline: cannot start \(database /),
    ]);
    expect(result.stderr, label).toMatch(reason);
    expect(`${result.stdout}${result.stderr}`, label).not.toMatch(/"stack"|\n\s+at /);
  }

  it('stops at once with the reason when the database cannot be opened', async () => {
    await expectCannotStart({ DATABASE_URL: 'sqlite:/proc/no-such-dir/db.sqlite' }, /no-such-dir/);
    await expectCannotStart({ DATABASE_URL: `sqlite:${workDir}` }, /is not a file/);
    await expectCannotStart(
      { DATABASE_URL: `${POSTGRES_URL.replace(/\/[^/]*$/, '')}/tripline_no_such_database` },
      /database "tripline_no_such_database" does not exist/,
    );
    await expectCannotStart(
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/tripline', DATABASE_CONNECT_TIMEOUT_MS: '1000' },
      /ECONNREFUSED/,
    );
  });

  it.skipIf(READ_ONLY_MOUNT_MISSING !== undefined)(
    systemToolSuiteTitle('stops with the reason on a read-only filesystem', READ_ONLY_MOUNT_MISSING),
    async () => {
      const mountPoint = join(workDir, 'read-only');
      mkdirSync(mountPoint);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint]).status).toBe(0);
      try {
        await expectCannotStart(
          { DATABASE_URL: `sqlite:${join(mountPoint, 'tripline.sqlite')}` },
          /read-only|readonly/i,
        );
      } finally {
        spawnSync('umount', [mountPoint]);
      }
    },
  );
});
