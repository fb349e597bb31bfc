// `tripline push` against a running server: detection-as-code from a pipeline.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, removeDatabase, startApp, TEST_ADMIN_KEY, type RunningApp } from './support/app.js';
import { tripline } from './support/cli.js';

function rule(ruleId: string, extra = ''): string {
  return `AnalysisType: rule
RuleID: ${ruleId}
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "DeleteTrail"
${extra}Tests:
  - Name: delete
    ExpectedResult: true
    Log: { eventName: DeleteTrail }
`;
}

describe('tripline push', () => {
  let running: RunningApp;
  let directory = '';

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    directory = await mkdtemp(join(tmpdir(), 'tripline-push-'));
    await mkdir(join(directory, 'pack', 'nested'), { recursive: true });
    await writeFile(join(directory, 'pack', 'a.yml'), rule('Push.A'));
    await writeFile(join(directory, 'pack', 'nested', 'b.yaml'), `${rule('Push.B')}---\n${rule('Push.C')}`);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
    await rm(directory, { recursive: true, force: true });
  });

  it('a dry run reports and stores nothing', async () => {
    const run = await tripline([
      'push',
      '--server',
      running.url,
      '--key',
      TEST_ADMIN_KEY,
      '--dry-run',
      join(directory, 'pack'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'dry run: nothing changed; would be 3 created, 0 updated, 0 unchanged (2 files)',
    );
    expect((await http(running.url, 'GET', '/v1/rules')).body.items).toEqual([]);
  });

  it('sends a directory as one pack and prints the report', async () => {
    const run = await tripline([
      'push',
      '--server',
      running.url,
      '--key',
      TEST_ADMIN_KEY,
      join(directory, 'pack'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n').slice(0, 3)).toEqual([
      'created   Push.A v1',
      'created   Push.B v1',
      'created   Push.C v1',
    ]);
    const again = await tripline([
      'push',
      '--server',
      `${running.url}/`,
      '--key',
      TEST_ADMIN_KEY,
      join(directory, 'pack'),
    ]);
    expect(again.stdout).toContain('0 created, 0 updated, 3 unchanged (2 files)');
  });

  it('refuses the whole pack for one bad file, naming the file and its line', async () => {
    const bad = join(directory, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'a.yml'), rule('Push.D'));
    await writeFile(join(bad, 'b.yml'), rule('Push.E', 'Sevrity: High\n'));
    const run = await tripline(['push', '--server', running.url, '--key', TEST_ADMIN_KEY, bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('push refused (422)');
    expect(run.stderr).toMatch(/b\.yml:6: unknown key "Sevrity"/);
    expect((await http(running.url, 'GET', '/v1/rules/Push.D')).status).toBe(404);
  });

  it('needs an admin key, from --key or TRIPLINE_API_KEY', async () => {
    const without = await tripline(['push', '--server', running.url, join(directory, 'pack')]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('push refused (401): this operation needs an API key');
    const fromEnv = await tripline(['push', '--server', running.url, '--dry-run', join(directory, 'pack')], {
      env: { TRIPLINE_API_KEY: TEST_ADMIN_KEY },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
  });

  it('says so when the server cannot be reached or the arguments are wrong', async () => {
    expect((await tripline(['push', join(directory, 'pack')])).code).toBe(2);
    expect((await tripline(['push', '--server', 'not a url', join(directory, 'pack')])).code).toBe(2);
    const unreachable = await tripline(['push', '--server', 'http://127.0.0.1:9', join(directory, 'pack')]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('tripline:');
  });
});
