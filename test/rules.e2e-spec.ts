// The rules API over real HTTP on a real SQLite file.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, removeDatabase, startApp, type RunningApp } from './support/app.js';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { REPO_ROOT } from './support/shared.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

function rule(
  ruleId: string,
  options: { severity?: string; condition?: string; tests?: string; extra?: string } = {},
): string {
  return `AnalysisType: rule
RuleID: ${ruleId}
DisplayName: ${ruleId} display
LogTypes: [AWS.CloudTrail]
Tags: [Test, ${ruleId.split('.').at(-1) ?? 'x'}]
Severity: ${options.severity ?? 'Low'}
Condition: ${options.condition ?? 'eventName eq "ConsoleLogin"'}
${options.extra ?? ''}Tests:
${
  options.tests ??
  `  - Name: login
    ExpectedResult: true
    Log: { eventName: ConsoleLogin }
  - Name: other
    ExpectedResult: false
    Log: { eventName: GetObject }
`
}`;
}

/** The example that Swagger UI shows for POST /v1/rules, taken from the served OpenAPI document. */
async function openApiExample(base: string): Promise<string> {
  const document = (await http(base, 'GET', '/docs-json')).body;
  return document.paths['/v1/rules'].post.requestBody.content['application/yaml'].example as string;
}

describe('rules API', () => {
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    running = await startApp();
    base = running.url;
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('loads the built-in pack at start', async () => {
    const list = await http(base, 'GET', '/v1/rules');
    expect(list.status).toBe(200);
    expect(list.body.items).toMatchObject([
      { ruleId: SEED_RULE_ID, version: 1, enabled: true, origin: 'builtin', severity: 'Medium' },
    ]);
    expect(list.body.items[0].tests).toEqual({ passed: 11, failed: 0 });
    expect(list.body.nextCursor).toBeNull();
  });

  it('stores the Swagger example of the seed rule as a new version, its tests passed', async () => {
    const example = await openApiExample(base);
    const created = await http(base, 'POST', '/v1/rules', { body: example });
    expect(created.status).toBe(201);
    expect(created.body.action).toBe('updated');
    expect(created.body.rule).toMatchObject({
      ruleId: SEED_RULE_ID,
      version: 2,
      enabled: true,
      origin: 'api',
    });
    expect(created.body.tests.map((t: { name: string; passed: boolean }) => [t.name, t.passed])).toEqual([
      ['External Principal Access', true],
      ['Same Account Access', true],
      ['Non-VPC Event', true],
    ]);
    const again = await http(base, 'POST', '/v1/rules', { body: example });
    expect(again.status).toBe(200);
    expect(again.body.action).toBe('unchanged');
    expect(again.body.rule.version).toBe(2);
  });

  it('creates from YAML and from JSON, keeping the source as sent', async () => {
    const yaml = rule('Test.Create.Yaml');
    const created = await http(base, 'POST', '/v1/rules', { body: yaml });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      action: 'created',
      rule: { ruleId: 'Test.Create.Yaml', version: 1, origin: 'api' },
    });
    const json = {
      AnalysisType: 'rule',
      RuleID: 'Test.Create.Json',
      LogTypes: ['AWS.CloudTrail'],
      Severity: 'High',
      Detection: [{ Key: 'eventName', Condition: 'Equals', Value: 'StopLogging' }],
      Tests: [{ Name: 'stop', ExpectedResult: true, Log: { eventName: 'StopLogging' } }],
    };
    const fromJson = await http(base, 'POST', '/v1/rules', { body: json });
    expect(fromJson.status).toBe(201);
    const detail = await http(base, 'GET', '/v1/rules/Test.Create.Json');
    expect(detail.body).toMatchObject({
      sourceFormat: 'json',
      severity: 'High',
      detectionLanguage: 'panther',
    });
    expect(detail.body.source).toBe(JSON.stringify(json));
    expect(detail.body.definition).toMatchObject({
      ruleId: 'Test.Create.Json',
      detection: { language: 'panther' },
    });
    const yamlDetail = await http(base, 'GET', '/v1/rules/Test.Create.Yaml');
    expect(yamlDetail.body.source).toBe(yaml);
  });

  it('answers invalid YAML with 422 and the line and column', async () => {
    const answer = await http(base, 'POST', '/v1/rules', {
      body: 'AnalysisType: rule\nRuleID: Test.Bad\nTags: [unclosed\nSeverity: Low\n',
    });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ code: 'invalid_rule', status: 422 });
    expect(answer.body.errors[0]).toMatchObject({ code: 'yaml_syntax' });
    expect(answer.body.errors[0]).toMatchObject({ line: 4, column: 1 });
  });

  it('says to send YAML as YAML when it arrives as application/json', async () => {
    const yaml = rule('Test.YamlAsJson');
    const answer = await http(base, 'POST', '/v1/rules', { body: yaml, contentType: 'application/json' });
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0]).toMatchObject({ code: 'json_syntax', line: 1 });
    expect(answer.body.errors[0].message).toContain(
      'this looks like YAML, not JSON: send it as application/yaml',
    );
    // Broken JSON is told as broken JSON.
    const broken = await http(base, 'POST', '/v1/rules', {
      body: '{"RuleID": ',
      contentType: 'application/json',
    });
    expect(broken.body.errors[0].message).not.toContain('YAML');
  });

  it('says on upload and in its view that a scheduled rule does not run yet, and a disabled one why', async () => {
    const scheduled = `AnalysisType: scheduled_rule
RuleID: Test.Scheduled
ScheduledQueries: [Daily.Logins]
Severity: Low
Detection:
  - Condition: AlwaysTrue
`;
    const created = await http(base, 'POST', '/v1/rules', { body: scheduled });
    expect(created.status).toBe(201);
    expect(created.body.warnings).toEqual([
      expect.objectContaining({ code: 'not_run', key: 'AnalysisType', line: 1 }),
    ]);
    expect(created.body.rule).toMatchObject({
      enabled: true,
      running: false,
      notRunning: expect.stringContaining('scheduled'),
    });
    const view = await http(base, 'GET', '/v1/rules/Test.Scheduled');
    expect(view.body).toMatchObject({
      running: false,
      notRunning: expect.stringContaining('scheduled queries'),
    });
    await http(base, 'POST', '/v1/rules', { body: rule('Test.Streaming') });
    expect((await http(base, 'GET', '/v1/rules/Test.Streaming')).body).toMatchObject({ running: true });
    await http(base, 'PATCH', '/v1/rules/Test.Streaming', { body: { enabled: false } });
    expect((await http(base, 'GET', '/v1/rules/Test.Streaming')).body).toMatchObject({
      running: false,
      notRunning: 'disabled',
    });
  });

  it('answers an unknown key with 422 naming it, and accepts it with ignoreExtraKeys', async () => {
    const source = rule('Test.Unknown.Key', { extra: 'Sevrity: High\n' });
    const answer = await http(base, 'POST', '/v1/rules', { body: source });
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ code: 'unknown_key', key: 'Sevrity', line: 8, column: 1 }),
    ]);
    expect(answer.body.detail).toContain('Sevrity');
    const lenient = await http(base, 'POST', '/v1/rules?ignoreExtraKeys=true', { body: source });
    expect(lenient.status).toBe(201);
    expect(lenient.body.warnings).toEqual([expect.objectContaining({ code: 'unknown_key', key: 'Sevrity' })]);
  });

  it('answers a condition error with its line and column in the body', async () => {
    const answer = await http(base, 'POST', '/v1/rules', {
      body: rule('Test.Bad.Condition', { condition: '"eventName === 1"' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0]).toMatchObject({ code: 'condition_syntax', key: 'Condition', line: 7 });
    // `===` is the 11th character of the condition, which starts after `Condition: "` (column 13).
    expect(answer.body.errors[0].column).toBe(23);
  });

  it('refuses a rule whose tests fail, naming each failing test; storeDisabled keeps it disabled', async () => {
    const failing = rule('Test.Failing', {
      tests: `  - Name: wrong one
    ExpectedResult: false
    Log: { eventName: ConsoleLogin }
  - Name: right one
    ExpectedResult: true
    Log: { eventName: ConsoleLogin }
  - Name: wrong two
    ExpectedResult: true
    Log: { eventName: Other }
`,
    });
    const refused = await http(base, 'POST', '/v1/rules', { body: failing });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('rule_tests_failed');
    expect(refused.body.failedTests).toEqual([
      { name: 'wrong one', passed: false, failures: ['ExpectedResult: expected false, got true'] },
      { name: 'wrong two', passed: false, failures: ['ExpectedResult: expected true, got false'] },
    ]);
    expect((await http(base, 'GET', '/v1/rules/Test.Failing')).status).toBe(404);

    const stored = await http(base, 'POST', '/v1/rules?storeDisabled=true', { body: failing });
    expect(stored.status).toBe(201);
    expect(stored.body.rule).toMatchObject({ enabled: false, tests: { passed: 1, failed: 2 } });
  });

  it('answers 404 for an unknown rule on every rule route', async () => {
    const routes: [string, string, string | object | undefined][] = [
      ['GET', '/v1/rules/No.Such.Rule', undefined],
      ['PUT', '/v1/rules/No.Such.Rule', rule('No.Such.Rule')],
      ['PATCH', '/v1/rules/No.Such.Rule', { enabled: false }],
      ['DELETE', '/v1/rules/No.Such.Rule', undefined],
      ['GET', '/v1/rules/No.Such.Rule/versions', undefined],
      ['GET', '/v1/rules/No.Such.Rule/versions/1', undefined],
      ['POST', '/v1/rules/No.Such.Rule/test', {}],
    ];
    for (const [method, path, body] of routes) {
      const answer = await http(base, method, path, { body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toMatchObject({ code: 'rule_not_found', status: 404 });
    }
  });

  it('replaces a rule as version 2 and lists both versions', async () => {
    await http(base, 'POST', '/v1/rules', { body: rule('Test.Replace') });
    const replaced = await http(base, 'PUT', '/v1/rules/Test.Replace', {
      body: rule('Test.Replace', { severity: 'Critical' }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ action: 'updated', rule: { version: 2, severity: 'Critical' } });
    const versions = await http(base, 'GET', '/v1/rules/Test.Replace/versions');
    expect(
      versions.body.items.map((v: { version: number; current: boolean; severity: string }) => [
        v.version,
        v.current,
        v.severity,
      ]),
    ).toEqual([
      [1, false, 'Low'],
      [2, true, 'Critical'],
    ]);
    const first = await http(base, 'GET', '/v1/rules/Test.Replace/versions/1');
    expect(first.body.source).toBe(rule('Test.Replace'));
    const mismatch = await http(base, 'PUT', '/v1/rules/Test.Replace', { body: rule('Test.Other') });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.code).toBe('rule_id_mismatch');
    expect((await http(base, 'GET', '/v1/rules/Test.Replace/versions/9')).status).toBe(404);
    expect((await http(base, 'GET', '/v1/rules/Test.Replace/versions/zero')).body).toMatchObject({
      status: 400,
      errors: [{ parameter: 'version' }],
    });
  });

  it('enables and disables without a new version', async () => {
    await http(base, 'POST', '/v1/rules', { body: rule('Test.Toggle') });
    const disabled = await http(base, 'PATCH', '/v1/rules/Test.Toggle', { body: { enabled: false } });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, version: 1 });
    const listed = await http(base, 'GET', '/v1/rules?enabled=false&limit=500');
    expect(listed.body.items.map((r: { ruleId: string }) => r.ruleId)).toContain('Test.Toggle');
    const bad = await http(base, 'PATCH', '/v1/rules/Test.Toggle', { body: { enabled: 'no', extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual([
      'enabled',
      'extra',
    ]);
  });

  it('keeps a rule disabled across new versions, unless the new source changes Enabled', async () => {
    await http(base, 'POST', '/v1/rules', { body: rule('Test.Stays.Off') });
    await http(base, 'PATCH', '/v1/rules/Test.Stays.Off', { body: { enabled: false } });
    const next = await http(base, 'PUT', '/v1/rules/Test.Stays.Off', {
      body: rule('Test.Stays.Off', { severity: 'High' }),
    });
    expect(next.body.rule).toMatchObject({ version: 2, enabled: false });
    const explicit = await http(base, 'PUT', '/v1/rules/Test.Stays.Off', {
      body: rule('Test.Stays.Off', { extra: 'Enabled: false\n' }),
    });
    expect(explicit.body.rule).toMatchObject({ version: 3, enabled: false });
    const back = await http(base, 'PUT', '/v1/rules/Test.Stays.Off', {
      body: rule('Test.Stays.Off', { extra: 'Enabled: true\n' }),
    });
    expect(back.body.rule).toMatchObject({ version: 4, enabled: true });
  });

  it('deletes a rule', async () => {
    await http(base, 'POST', '/v1/rules', { body: rule('Test.Delete') });
    expect((await http(base, 'DELETE', '/v1/rules/Test.Delete')).status).toBe(204);
    expect((await http(base, 'GET', '/v1/rules/Test.Delete')).status).toBe(404);
    expect((await http(base, 'DELETE', '/v1/rules/Test.Delete')).status).toBe(404);
    // Its versions stay readable, so that hits made by it can still be explained.
    const versions = await http(base, 'GET', '/v1/rules/Test.Delete/versions');
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([1]);
    expect((await http(base, 'GET', '/v1/rules/Test.Delete/versions/1')).body.source).toBe(
      rule('Test.Delete'),
    );
    // Uploading it again brings it back as a new version; version numbers never repeat.
    const revived = await http(base, 'POST', '/v1/rules', { body: rule('Test.Delete') });
    expect(revived.body).toMatchObject({ action: 'created', rule: { version: 2 } });
  });

  it('runs a rule’s own tests, or evaluates given events with their output fields', async () => {
    const own = await http(base, 'POST', `/v1/rules/${SEED_RULE_ID}/test`);
    expect(own.status).toBe(200);
    expect(own.body.tests).toHaveLength(3);
    expect(own.body.tests.every((t: { passed: boolean }) => t.passed)).toBe(true);

    const seedTestEvent = seedExternalPrincipalAccess();
    const events = await http(base, 'POST', `/v1/rules/${SEED_RULE_ID}/test`, {
      body: { events: [seedTestEvent, seedSameAccountAccess(), seedNonVpcEvent()] },
    });
    expect(events.status).toBe(200);
    expect(events.body.hits).toBe(1);
    expect(events.body.events[0]).toMatchObject({
      index: 0,
      matched: true,
      logType: 'AWS.CloudTrail',
      severity: 'Medium',
      title:
        'External Principal [UnknownAWSAccount] from account [111111111111] accessing resources in account [222222222222]',
      outputFields: {
        eventName: 'GetObject',
        accountId: '111111111111',
        actor_user: 'UnknownAWSAccount',
        userAgent: null,
      },
    });
    expect(events.body.events[1]).toMatchObject({ index: 1, matched: false });
    expect(events.body.events[2]).toMatchObject({ index: 2, matched: false });
    const otherLogType = await http(base, 'POST', `/v1/rules/${SEED_RULE_ID}/test`, {
      body: { events: [seedTestEvent], logType: 'Okta.SystemLog' },
    });
    expect(otherLogType.body).toMatchObject({
      hits: 0,
      events: [{ index: 0, matched: false, logType: 'Okta.SystemLog' }],
    });
    const bad = await http(base, 'POST', `/v1/rules/${SEED_RULE_ID}/test`, { body: { events: [1, 'x'] } });
    expect(bad.status).toBe(400);
  });

  it('lists with filters and cursor pagination', async () => {
    for (const id of ['Test.Page.A', 'Test.Page.B', 'Test.Page.C'])
      await http(base, 'POST', '/v1/rules', { body: rule(id, { severity: 'High' }) });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { ruleId: string }[]; nextCursor: string | null } } = await http(
        base,
        'GET',
        `/v1/rules?severity=High&q=Test.Page&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((r) => r.ruleId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Test.Page.A', 'Test.Page.B', 'Test.Page.C']);
    const byTag = await http(base, 'GET', '/v1/rules?tag=b');
    expect(byTag.body.items.map((r: { ruleId: string }) => r.ruleId)).toEqual(['Test.Page.B']);
    const byLogType = await http(base, 'GET', '/v1/rules?logType=Okta.SystemLog');
    expect(byLogType.body.items).toEqual([]);
    const several = await http(base, 'GET', '/v1/rules?severity=Critical&severity=medium&limit=500');
    expect(several.body.items.map((r: { severity: string }) => r.severity).sort()).toEqual([
      'Critical',
      'Medium',
    ]);
  });

  it('answers bad list parameters with 400 naming each one', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=501', 'limit'],
      ['enabled=maybe', 'enabled'],
      ['severity=Urgent', 'severity'],
      ['cursor=@@', 'cursor'],
      ['cursor=Zm9v-', 'cursor'],
      ['frobnicate=1', 'frobnicate'],
    ];
    for (const [query, parameter] of cases) {
      const answer = await http(base, 'GET', `/v1/rules?${query}`);
      expect(answer.status, query).toBe(400);
      expect(
        answer.body.errors.map((e: { parameter: string }) => e.parameter),
        query,
      ).toContain(parameter);
    }
  });

  it('answers wrong bodies with a clear 4xx', async () => {
    const png = await http(base, 'POST', '/v1/rules', { body: 'x', contentType: 'image/png' });
    expect(png.status).toBe(415);
    expect(png.body.code).toBe('unsupported_media_type');
    const json = await http(base, 'POST', '/v1/rules', {
      body: '{\n  "RuleID": "x",\n  bad\n}',
      contentType: 'application/json',
    });
    expect(json.status).toBe(422);
    expect(json.body.code).toBe('invalid_rule');
    expect(json.body.errors[0]).toMatchObject({ code: 'json_syntax', line: 3 });
    expect(json.body.detail).toMatch(/invalid JSON/);
    const empty = await http(base, 'POST', '/v1/rules', { body: '   ', contentType: 'application/yaml' });
    expect(empty.status).toBe(400);
    const two = await http(base, 'POST', '/v1/rules', {
      body: `${rule('Test.Two.A')}---\n${rule('Test.Two.B')}`,
    });
    expect(two.status).toBe(422);
    expect(two.body.code).toBe('multiple_rules');
    const python = await http(base, 'POST', '/v1/rules', {
      body: 'AnalysisType: rule\nRuleID: Test.Python\nFilename: rule.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\n',
    });
    // A Python rule sent without its source: refused, saying how to send it.
    expect(python.status).toBe(422);
    expect(python.body.errors[0]).toMatchObject({ code: 'missing_body', key: 'Filename', line: 3 });
    expect(python.body.errors[0].message).toMatch(/send it as Body/);
  });
});

describe('rule packs: import and export', () => {
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    base = running.url;
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  const pack = [rule('Pack.One'), rule('Pack.Two', { severity: 'High' }), rule('Pack.Three')].join('---\n');

  it('a dry run reports and changes nothing', async () => {
    const dry = await http(base, 'POST', '/v1/rules/import?dryRun=true', { body: pack });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, created: 3, updated: 0, unchanged: 0 });
    expect(
      dry.body.rules.map((r: { ruleId: string; action: string; version: number }) => [
        r.ruleId,
        r.action,
        r.version,
      ]),
    ).toEqual([
      ['Pack.One', 'created', 1],
      ['Pack.Two', 'created', 1],
      ['Pack.Three', 'created', 1],
    ]);
    expect((await http(base, 'GET', '/v1/rules')).body.items).toEqual([]);
  });

  it('a pack with one bad rule changes nothing and says why', async () => {
    const bad = `${pack}---\n${rule('Pack.Bad', { extra: 'Bogus: 1\n' })}`;
    const answer = await http(base, 'POST', '/v1/rules/import', { body: bad });
    expect(answer.status).toBe(422);
    // Three rules of 14 lines and their separators come first; Bogus is the 8th line of the fourth.
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ code: 'unknown_key', key: 'Bogus', line: 3 * 15 + 8 }),
    ]);
    const failing = `${pack}---\n${rule('Pack.Failing', { tests: '  - Name: t\n    ExpectedResult: true\n    Log: { eventName: Nope }\n' })}`;
    const refused = await http(base, 'POST', '/v1/rules/import', { body: failing });
    expect(refused.status).toBe(422);
    expect(refused.body.rules).toEqual([
      { ruleId: 'Pack.Failing', failedTests: [expect.objectContaining({ name: 't' })] },
    ]);
    const duplicate = await http(base, 'POST', '/v1/rules/import', {
      body: `${pack}---\n${rule('Pack.One')}`,
    });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.errors[0].code).toBe('duplicate_rule_id');
    expect((await http(base, 'GET', '/v1/rules')).body.items).toEqual([]);
  });

  it('imports all at once, then reports unchanged rules', async () => {
    const imported = await http(base, 'POST', '/v1/rules/import', { body: pack });
    expect(imported.body).toMatchObject({ dryRun: false, created: 3 });
    const again = await http(base, 'POST', '/v1/rules/import', { body: pack });
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    const list = await http(base, 'GET', '/v1/rules');
    expect(list.body.items.map((r: { ruleId: string; origin: string }) => [r.ruleId, r.origin])).toEqual([
      ['Pack.One', 'import'],
      ['Pack.Three', 'import'],
      ['Pack.Two', 'import'],
    ]);
  });

  it('exports a stable YAML stream that imports into a fresh instance unchanged', async () => {
    await http(base, 'PATCH', '/v1/rules/Pack.Two', { body: { enabled: false } });
    const exported = await http(base, 'GET', '/v1/rules/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toContain('application/yaml');
    expect(exported.text.split('---\n').map((doc) => /RuleID: (\S+)/.exec(doc)?.[1])).toEqual([
      'Pack.One',
      'Pack.Three',
      'Pack.Two',
    ]);
    expect(exported.text).toContain('Enabled: false');
    expect((await http(base, 'GET', '/v1/rules/export')).text).toBe(exported.text);

    const other = await startApp({ builtinRules: false });
    try {
      const imported = await http(other.url, 'POST', '/v1/rules/import', { body: exported.text });
      expect(imported.body).toMatchObject({ created: 3 });
      const states = await http(other.url, 'GET', '/v1/rules');
      expect(
        states.body.items.map((r: { ruleId: string; enabled: boolean }) => [r.ruleId, r.enabled]),
      ).toEqual([
        ['Pack.One', true],
        ['Pack.Three', true],
        ['Pack.Two', false],
      ]);
      expect((await http(other.url, 'GET', '/v1/rules/export')).text).toBe(exported.text);
    } finally {
      await other.close();
      await removeDatabase(other);
    }
  });
});

describe('a restart', () => {
  it('keeps every rule and version, and does not load the built-in pack twice', async () => {
    const first = await startApp();
    await http(first.url, 'POST', '/v1/rules', { body: rule('Test.Durable') });
    await http(first.url, 'PUT', '/v1/rules/Test.Durable', {
      body: rule('Test.Durable', { severity: 'High' }),
    });
    await first.close();

    const second = await startApp({ databaseUrl: first.databaseUrl });
    try {
      const versions = await http(second.url, 'GET', '/v1/rules/Test.Durable/versions');
      expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      const seedVersions = await http(second.url, 'GET', `/v1/rules/${SEED_RULE_ID}/versions`);
      expect(seedVersions.body.items).toHaveLength(1);
    } finally {
      await second.close();
      await removeDatabase(second);
    }
  });

  it('never replaces a user’s version of a built-in rule', async () => {
    const first = await startApp();
    const builtin = await readFile(
      join(REPO_ROOT, 'rules', 'aws_cloudtrail_vpce_external_principal.yml'),
      'utf8',
    );
    const mine = builtin.replace('DisplayName: External Principal', 'DisplayName: Our External Principal');
    expect((await http(first.url, 'PUT', `/v1/rules/${SEED_RULE_ID}`, { body: mine })).status).toBe(200);
    await first.close();
    const second = await startApp({ databaseUrl: first.databaseUrl });
    try {
      const current = await http(second.url, 'GET', `/v1/rules/${SEED_RULE_ID}`);
      expect(current.body).toMatchObject({
        version: 2,
        displayName: 'Our External Principal Accessing AWS Resources Via VPC Endpoint',
        origin: 'api',
      });
    } finally {
      await second.close();
      await removeDatabase(second);
    }
  });
});

describe('a built-in pack of its own', () => {
  it('is stored in one go, and a restart writes and tests only the rules whose files changed', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tripline-pack-'));
    const failing = `  - Name: fails
    ExpectedResult: true
    Log: { eventName: GetObject }
`;
    await writeFile(join(directory, 'a.yml'), rule('Pack.A'));
    await writeFile(join(directory, 'b.yml'), rule('Pack.B'));
    await writeFile(join(directory, 'failing.yml'), rule('Pack.Failing', { tests: failing }));
    // Two rules in one stream, and a RuleID the pack already defines: the later one is skipped.
    await writeFile(
      join(directory, 'stream.yml'),
      `${rule('Pack.C')}---\n${rule('Pack.A', { severity: 'High' })}`,
    );
    const env = { TRIPLINE_BUILTIN_RULES: directory };
    const state = async (base: string) => {
      const list = await http(base, 'GET', '/v1/rules?limit=10');
      return list.body.items.map(
        (item: { ruleId: string; version: number; enabled: boolean; severity: string }) => [
          item.ruleId,
          item.version,
          item.enabled,
          item.severity,
        ],
      );
    };
    const first = await startApp({ env });
    try {
      expect(await state(first.url)).toEqual([
        ['Pack.A', 1, true, 'Low'],
        ['Pack.B', 1, true, 'Low'],
        ['Pack.C', 1, true, 'Low'],
        ['Pack.Failing', 1, false, 'Low'],
      ]);
      const failingRule = await http(first.url, 'GET', '/v1/rules/Pack.Failing');
      expect([failingRule.body.origin, failingRule.body.tests]).toEqual([
        'builtin',
        { passed: 0, failed: 1 },
      ]);
      const audit = await http(first.url, 'GET', '/v1/audit?targetId=Pack.B');
      expect(audit.body.items).toMatchObject([
        { action: 'rule.create', keyId: 'system', details: { version: 1, origin: 'builtin', enabled: true } },
      ]);
      // A user's choice to disable a pack rule outlives the pack's next version of it.
      expect((await http(first.url, 'PATCH', '/v1/rules/Pack.B', { body: { enabled: false } })).status).toBe(
        200,
      );
    } finally {
      await first.close();
    }

    await writeFile(join(directory, 'b.yml'), rule('Pack.B', { severity: 'High' }));
    // A changed file is tested again: its new version fails, so it is stored disabled.
    await writeFile(join(directory, 'a.yml'), rule('Pack.A', { tests: failing }));
    const second = await startApp({ databaseUrl: first.databaseUrl, env });
    try {
      expect(await state(second.url)).toEqual([
        ['Pack.A', 2, false, 'Low'],
        ['Pack.B', 2, false, 'High'],
        ['Pack.C', 1, true, 'Low'],
        ['Pack.Failing', 1, false, 'Low'],
      ]);
      const tests = async (ruleId: string) =>
        (await http(second.url, 'GET', `/v1/rules/${ruleId}`)).body.tests as unknown;
      expect(await tests('Pack.A')).toEqual({ passed: 0, failed: 1 });
      expect(await tests('Pack.B')).toEqual({ passed: 2, failed: 0 });
      // An unchanged file keeps what its stored version's tests gave.
      expect(await tests('Pack.Failing')).toEqual({ passed: 0, failed: 1 });
      const versions = await http(second.url, 'GET', '/v1/rules/Pack.B/versions');
      expect(
        versions.body.items.map((v: { version: number; origin: string }) => [v.version, v.origin]),
      ).toEqual([
        [1, 'builtin'],
        [2, 'builtin'],
      ]);
      expect((await http(second.url, 'GET', '/v1/rules/Pack.C/versions')).body.items).toHaveLength(1);
      const audit = await http(second.url, 'GET', '/v1/audit?targetType=rule&limit=50');
      expect(
        audit.body.items.map((item: { action: string; targetId: string }) => [item.action, item.targetId]),
      ).toEqual([
        ['rule.update', 'Pack.B'],
        ['rule.update', 'Pack.A'],
        ['rule.disable', 'Pack.B'],
        ['rule.create', 'Pack.C'],
        ['rule.create', 'Pack.Failing'],
        ['rule.create', 'Pack.B'],
        ['rule.create', 'Pack.A'],
      ]);
    } finally {
      await second.close();
      await removeDatabase(second);
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('rules API: awkward input', () => {
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    base = running.url;
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('stores what it checked: directives, markers and comments included', async () => {
    const source = `%YAML 1.1\n# Team: detection engineering\n---\n${rule('Test.Yaml11', { extra: 'Enabled: yes\n' })}`;
    const created = await http(base, 'POST', '/v1/rules', { body: source });
    expect(created.status).toBe(201);
    expect(created.body.rule.enabled).toBe(true);
    const stored = await http(base, 'GET', '/v1/rules/Test.Yaml11');
    expect(stored.status).toBe(200);
    expect(stored.body.source).toBe(source);
    const inline = await http(base, 'POST', '/v1/rules', {
      body: '--- {AnalysisType: rule, RuleID: Test.Inline, LogTypes: [AWS.CloudTrail], Severity: Low, Condition: \'eventName eq "X"\'}\n',
    });
    expect(inline.status).toBe(201);
    expect((await http(base, 'GET', '/v1/rules/Test.Inline')).status).toBe(200);
  });

  it('serves rule ids up to the 200 characters it accepts', async () => {
    const ruleId = `Test.${'x'.repeat(195)}`;
    expect((await http(base, 'POST', '/v1/rules', { body: rule(ruleId) })).status).toBe(201);
    expect((await http(base, 'GET', `/v1/rules/${ruleId}`)).body.ruleId).toBe(ruleId);
    expect((await http(base, 'PATCH', `/v1/rules/${ruleId}`, { body: { enabled: false } })).status).toBe(200);
    expect((await http(base, 'DELETE', `/v1/rules/${ruleId}`)).status).toBe(204);
    expect((await http(base, 'POST', '/v1/rules', { body: rule('export') })).body.errors[0]).toMatchObject({
      key: 'RuleID',
    });
    const badEncoding = await http(base, 'GET', '/v1/rules/%E0%A4%A');
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses deep nesting and oversized sources with a 4xx, never a 5xx', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = { a: deep };
    const events = await http(base, 'POST', '/v1/rules/Test.Yaml11/test', { body: { events: [deep] } });
    expect(events.status).toBe(400);
    expect(events.body.code).toBe('too_deep');
    const nestedLog = rule('Test.Deep.Log', {
      tests: `  - Name: deep\n    ExpectedResult: false\n    Log: '${JSON.stringify(deep)}'\n`,
    });
    const refused = await http(base, 'POST', '/v1/rules?storeDisabled=true', { body: nestedLog });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0]).toMatchObject({ code: 'too_deep' });
    const huge = await http(base, 'POST', '/v1/rules', {
      body: `${rule('Test.Huge')}# ${'x'.repeat(600 * 1024)}\n`,
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('rule_source_too_large');
  });

  it('keeps an AlertContext named __proto__ as a plain field', async () => {
    const source = rule('Test.Proto', {
      extra: 'AlertContext:\n  - { KeyName: __proto__, KeyValue: { Key: eventName } }\n',
      tests:
        '  - Name: login\n    ExpectedResult: true\n    ExpectedAlertContext: { __proto__: ConsoleLogin }\n    Log: { eventName: ConsoleLogin }\n',
    });
    const created = await http(base, 'POST', '/v1/rules', { body: source });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const events = await http(base, 'POST', '/v1/rules/Test.Proto/test', {
      body: { events: [{ p_log_type: 'AWS.CloudTrail', eventName: 'ConsoleLogin' }] },
    });
    expect(JSON.stringify(events.body.events[0].outputFields)).toBe('{"__proto__":"ConsoleLogin"}');
  });
});
