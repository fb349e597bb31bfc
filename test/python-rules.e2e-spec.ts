// Panther's Python content through the API, on SQLite and on PostgreSQL: global helpers and data models
// stored and versioned, the seed's rule exactly as the catalogue publishes it making the built-in rule's
// hits, packs that bring helpers with their rules, and hostile rules that leave the service up. Needs the
// host's Python 3 and bubblewrap (.ci/run installs them) and ../shared; without them it says so.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEFAULT_SANDBOX_OPTIONS, sandboxProblem } from '../src/engine/python/sandbox.js';
import {
  bearer,
  http,
  removeDatabase,
  rows,
  startApp,
  TEST_ADMIN_KEY,
  type RunningApp,
} from './support/app.js';
import { tripline } from './support/cli.js';
import { hasShared, makeCorpus, SHARED_DIR, type Corpus } from './support/shared.js';
import { writeZip } from './support/zip.js';

const PROBLEM = sandboxProblem(DEFAULT_SANDBOX_OPTIONS);
const CATALOGUE = join(SHARED_DIR, 'panther-analysis');
const SEED_RULE = join(CATALOGUE, 'rules', 'aws_cloudtrail_rules', 'aws_vpce_external_principal.yml');
const SEED_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

function title(text: string, needsCatalogue: boolean): string {
  if (PROBLEM !== undefined) return `${text} — SKIPPED: ${PROBLEM}`;
  if (needsCatalogue && !hasShared(CATALOGUE))
    return `${text} — SKIPPED: ${CATALOGUE} is absent (CI keeps ../shared beside the checkout)`;
  return text;
}

/** A catalogue file with the Python its Filename names under Body, as one document to upload. */
function withBody(file: string): string {
  const document = parseDocument(readFileSync(file, 'utf8'));
  const filename = document.get('Filename');
  if (typeof filename === 'string') document.set('Body', readFileSync(join(dirname(file), filename), 'utf8'));
  return document.toString();
}

const helperFile = (name: string) => join(CATALOGUE, 'global_helpers', `${name}.yml`);

/** The events of a corpus file, posted in batches of 2,000; each answer must be a 200 with nothing refused. */
async function ingestCorpus(running: RunningApp, corpus: Corpus): Promise<void> {
  const lines = (await readFile(corpus.file, 'utf8')).split('\n').filter(Boolean);
  for (let start = 0; start < lines.length; start += 2000) {
    const answer = await http(running.url, 'POST', '/v1/events', {
      body: lines.slice(start, start + 2000).join('\n'),
      contentType: 'application/x-ndjson',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.rejectedCount).toBe(0);
  }
}

/** A body of bytes (an archive), answered as JSON. */
async function postBytes(
  running: RunningApp,
  path: string,
  data: Buffer,
  contentType: string,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { ...bearer(), 'content-type': contentType },
    body: data,
  });
  return { status: response.status, body: await response.json() };
}

interface StoredHit {
  ruleVersion: number;
  title: string;
  outputFields: Record<string, unknown>;
  event: { eventID: string };
}

async function hitsOf(running: RunningApp, ruleId: string): Promise<StoredHit[]> {
  const answer = await http<{ items: StoredHit[] }>(
    running.url,
    'GET',
    `/v1/hits?ruleId=${ruleId}&limit=500`,
  );
  expect(answer.status).toBe(200);
  return answer.body.items.sort((a, b) => a.event.eventID.localeCompare(b.event.eventID));
}

describe.skipIf(PROBLEM !== undefined || !hasShared(CATALOGUE))(
  title("Panther's Python rules, global helpers and data models through the API", true),
  () => {
    let running: RunningApp;
    let builtin: RunningApp;
    let directory = '';
    let corpus: Corpus;

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'tripline-python-'));
      [running, builtin, corpus] = await Promise.all([
        startApp(),
        startApp(),
        makeCorpus(20_000, join(directory, 'corpus.ndjson'), 100),
      ]);
    });

    afterAll(async () => {
      for (const app of [running, builtin]) {
        await app.close();
        await removeDatabase(app);
      }
      await rm(directory, { recursive: true, force: true });
    });

    it('stores global helpers and their versions, and refuses one that does not import, saying where', async () => {
      for (const name of ['panther_base_helpers', 'panther_aws_helpers']) {
        const created = await http(running.url, 'POST', '/v1/global-helpers', {
          body: withBody(helperFile(name)),
        });
        expect(created.status, name).toBe(201);
        expect(created.body).toMatchObject({ action: 'created', item: { id: name, version: 1 } });
      }
      const again = await http(running.url, 'POST', '/v1/global-helpers', {
        body: withBody(helperFile('panther_base_helpers')),
      });
      expect(again.status).toBe(200);
      expect(again.body.action).toBe('unchanged');

      const list = await http(running.url, 'GET', '/v1/global-helpers');
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([
        'panther_aws_helpers',
        'panther_base_helpers',
      ]);
      const one = await http(running.url, 'GET', '/v1/global-helpers/panther_aws_helpers');
      expect(one.body.source).toContain('def aws_rule_context');
      const versions = await http(running.url, 'GET', '/v1/global-helpers/panther_aws_helpers/versions');
      expect(versions.body.items).toMatchObject([{ version: 1, current: true }]);

      const broken = await http(running.url, 'POST', '/v1/global-helpers', {
        body: 'AnalysisType: global\nGlobalID: broken_helpers\nFilename: broken_helpers.py\nBody: |\n  def f(:\n      pass\n',
      });
      expect(broken.status).toBe(422);
      expect(broken.headers.get('content-type')).toContain('application/problem+json');
      expect(broken.body.code).toBe('python_load_failed');
      expect(broken.body.detail).toMatch(
        /global helper broken_helpers does not load: SyntaxError.*broken_helpers\.py, line 1/,
      );
      expect((await http(running.url, 'GET', '/v1/global-helpers/broken_helpers')).status).toBe(404);

      const rule = await http(running.url, 'POST', '/v1/global-helpers', { body: withBody(SEED_RULE) });
      expect(rule.status).toBe(422);
      expect(rule.body.code).toBe('wrong_document');
    });

    it("runs the seed's Python rule as the catalogue publishes it: its tests pass, with the helper versions recorded", async () => {
      const uploaded = await http(running.url, 'POST', '/v1/rules', { body: withBody(SEED_RULE) });
      expect(uploaded.status).toBe(201);
      expect(uploaded.body.rule).toMatchObject({
        ruleId: SEED_ID,
        detectionLanguage: 'python',
        tests: { passed: 3, failed: 0 },
      });
      const version = await http(
        running.url,
        'GET',
        `/v1/rules/${SEED_ID}/versions/${uploaded.body.rule.version}`,
      );
      expect(version.body.testedWith).toEqual({
        globals: { panther_aws_helpers: 1, panther_base_helpers: 1 },
        dataModels: {},
      });
    });

    it('stores data models, refuses one whose method is missing, and the seed rule still passes with them', async () => {
      const modelFile = join(CATALOGUE, 'data_models', 'aws_cloudtrail_data_model.yml');
      // Its methods import a helper not stored yet: refused, naming it.
      const early = await http(running.url, 'POST', '/v1/data-models', { body: withBody(modelFile) });
      expect(early.status).toBe(422);
      expect(early.body.detail).toMatch(/No module named 'panther_event_type_helpers'/);
      const helper = await http(running.url, 'POST', '/v1/global-helpers', {
        body: withBody(helperFile('panther_event_type_helpers')),
      });
      expect(helper.status).toBe(201);
      const created = await http(running.url, 'POST', '/v1/data-models', { body: withBody(modelFile) });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({
        action: 'created',
        item: { id: 'Standard.AWS.CloudTrail', logTypes: ['AWS.CloudTrail'], version: 1 },
        rulesTested: 1,
      });
      const listed = await http(running.url, 'GET', '/v1/data-models');
      expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual(['Standard.AWS.CloudTrail']);

      const broken = withBody(modelFile).replace('Method: get_actor_user', 'Method: no_such_method');
      const refused = await http(running.url, 'POST', '/v1/data-models', { body: broken });
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('python_load_failed');
      expect(refused.body.detail).toMatch(
        /data model Standard\.AWS\.CloudTrail does not load: .*no_such_method/,
      );
      const versions = await http(running.url, 'GET', '/v1/data-models/Standard.AWS.CloudTrail/versions');
      expect(versions.body.items).toHaveLength(1);

      const tested = await http(running.url, 'POST', `/v1/rules/${SEED_ID}/test`, { body: {} });
      expect(tested.status).toBe(200);
      expect(tested.body.tests.map((test: { passed: boolean }) => test.passed)).toEqual([true, true, true]);
    });

    it("makes exactly the built-in rule's hits on the corpus, with the same titles and alert context", async () => {
      await Promise.all([ingestCorpus(running, corpus), ingestCorpus(builtin, corpus)]);
      const python = await hitsOf(running, SEED_ID);
      const condition = await hitsOf(builtin, SEED_ID);
      expect(python).toHaveLength(corpus.expected.externalPrincipal);
      expect(condition).toHaveLength(corpus.expected.externalPrincipal);
      expect(python.map((hit) => hit.event.eventID)).toEqual(condition.map((hit) => hit.event.eventID));
      expect(python.map((hit) => hit.title)).toEqual(condition.map((hit) => hit.title));
      python.forEach((hit, index) => {
        const reference = (condition[index] as StoredHit).outputFields;
        // Every field the built-in rule outputs, with the same value. The catalogue's alert_context()
        // names the principal's account principal_account where the seed's output fields say accountId,
        // and its helper writes a placeholder where the event has no user agent.
        for (const [field, value] of Object.entries(reference)) {
          if (field === 'userAgent' && value === null)
            expect(hit.outputFields[field]).toBe('<MISSING_USER_AGENT>');
          else if (field === 'accountId') expect(hit.outputFields.principal_account).toEqual(value);
          else expect(hit.outputFields[field], field).toEqual(value);
        }
      });
    }, 180_000);

    it('keeps a running rule working: a helper it imports cannot be deleted or broken, a compatible change is stored', async () => {
      const deleted = await http(running.url, 'DELETE', '/v1/global-helpers/panther_aws_helpers');
      expect(deleted.status).toBe(422);
      expect(deleted.body.code).toBe('running_rules_break');
      expect(deleted.body.rules.map((rule: { ruleId: string }) => rule.ruleId)).toEqual([SEED_ID]);

      const original = withBody(helperFile('panther_aws_helpers'));
      const breaking = original.replace('def aws_rule_context(', 'def aws_rule_context_renamed(');
      expect(breaking).not.toBe(original);
      const refused = await http(running.url, 'POST', '/v1/global-helpers', { body: breaking });
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('running_rules_break');

      const compatible = await http(running.url, 'POST', '/v1/global-helpers', {
        body: `${original.trimEnd()}\n# a comment changes nothing a rule uses\n`,
      });
      expect(compatible.status, JSON.stringify(compatible.body)).toBe(201);
      expect(compatible.body).toMatchObject({ action: 'updated', item: { version: 2 }, rulesTested: 1 });
      const versions = await http(running.url, 'GET', '/v1/global-helpers/panther_aws_helpers/versions');
      expect(versions.body.items.map((item: { current: boolean }) => item.current)).toEqual([false, true]);
    });

    it('takes a repository as a zip, its .py files beside their YAML, leaving out what it does not keep', async () => {
      const fresh = await startApp({ builtinRules: false });
      try {
        const file = (path: string) => readFileSync(join(CATALOGUE, path));
        const zip = writeZip([
          {
            path: 'repo/global_helpers/panther_base_helpers.yml',
            data: file('global_helpers/panther_base_helpers.yml'),
          },
          {
            path: 'repo/global_helpers/panther_base_helpers.py',
            data: file('global_helpers/panther_base_helpers.py'),
            deflate: true,
          },
          {
            path: 'repo/global_helpers/panther_aws_helpers.yml',
            data: file('global_helpers/panther_aws_helpers.yml'),
          },
          {
            path: 'repo/global_helpers/panther_aws_helpers.py',
            data: file('global_helpers/panther_aws_helpers.py'),
            deflate: true,
          },
          { path: 'repo/rules/vpce.yml', data: readFileSync(SEED_RULE) },
          {
            path: 'repo/rules/aws_vpce_external_principal.py',
            data: readFileSync(SEED_RULE.replace(/\.yml$/, '.py')),
          },
          {
            path: 'repo/packs/aws.yml',
            data: 'AnalysisType: pack\nPackID: AWS.Example\nPackDefinition:\n  IDs: [X]\n',
          },
          { path: 'repo/README.md', data: '# not read' },
        ]);
        const imported = await postBytes(fresh, '/v1/rules/import', zip, 'application/zip');
        expect(imported.status, JSON.stringify(imported.body)).toBe(200);
        expect(imported.body.rules).toMatchObject([
          { ruleId: SEED_ID, action: 'created', tests: { passed: 3, failed: 0 } },
        ]);
        expect(imported.body.library.map((item: { id: string }) => item.id).sort()).toEqual([
          'panther_aws_helpers',
          'panther_base_helpers',
        ]);
        expect(imported.body.warnings).toMatchObject([{ code: 'not_kept', file: 'repo/packs/aws.yml' }]);
        // What is stored loads on its own: the Python is under Body.
        const stored = await http(fresh.url, 'GET', `/v1/rules/${SEED_ID}`);
        expect(stored.body.source).toContain('Body:');
        expect(stored.body.source).toContain('def rule(event):');

        const damaged = await postBytes(fresh, '/v1/rules/import', zip.subarray(0, 200), 'application/zip');
        expect(damaged.status).toBe(400);
        expect(damaged.body.code).toBe('invalid_archive');
      } finally {
        await fresh.close();
        await removeDatabase(fresh);
      }
    });

    it('takes one Python rule as multipart/form-data, its YAML and its .py', async () => {
      const fresh = await startApp({ builtinRules: false });
      try {
        const pack = [helperFile('panther_base_helpers'), helperFile('panther_aws_helpers')]
          .map(withBody)
          .join('---\n');
        expect((await http(fresh.url, 'POST', '/v1/rules/import', { body: pack })).status).toBe(200);
        const form = new FormData();
        form.append('rule', new Blob([readFileSync(SEED_RULE)]), 'aws_vpce_external_principal.yml');
        form.append(
          'python',
          new Blob([readFileSync(SEED_RULE.replace(/\.yml$/, '.py'))]),
          'aws_vpce_external_principal.py',
        );
        const response = await fetch(`${fresh.url}/v1/rules`, {
          method: 'POST',
          headers: bearer(),
          body: form,
        });
        const answer = (await response.json()) as { rule: { ruleId: string; tests: object } };
        expect(response.status, JSON.stringify(answer)).toBe(201);
        expect(answer.rule).toMatchObject({ ruleId: SEED_ID, tests: { passed: 3, failed: 0 } });

        const alone = new FormData();
        alone.append('rule', new Blob([readFileSync(SEED_RULE)]), 'aws_vpce_external_principal.yml');
        const missing = await fetch(`${fresh.url}/v1/rules`, {
          method: 'PUT',
          headers: bearer(),
          body: alone,
        });
        expect(missing.status).toBe(404); // PUT names its rule in the path
        const refused = await fetch(`${fresh.url}/v1/rules/${SEED_ID}`, {
          method: 'PUT',
          headers: bearer(),
          body: alone,
        });
        const problem = (await refused.json()) as { code: string; errors: { code: string; key: string }[] };
        expect(refused.status).toBe(422);
        expect(problem.errors[0]).toMatchObject({ code: 'missing_body', key: 'Filename' });
      } finally {
        await fresh.close();
        await removeDatabase(fresh);
      }
    });

    it('tripline push sends a folder of helpers and Python rules as it is', async () => {
      const fresh = await startApp({ builtinRules: false });
      const tree = join(directory, 'push-tree');
      try {
        await mkdir(join(tree, 'helpers'), { recursive: true });
        await mkdir(join(tree, 'rules'), { recursive: true });
        for (const name of ['panther_base_helpers', 'panther_aws_helpers'])
          for (const extension of ['yml', 'py'])
            await copyFile(
              join(CATALOGUE, 'global_helpers', `${name}.${extension}`),
              join(tree, 'helpers', `${name}.${extension}`),
            );
        await copyFile(SEED_RULE, join(tree, 'rules', 'aws_vpce_external_principal.yml'));
        await copyFile(
          SEED_RULE.replace(/\.yml$/, '.py'),
          join(tree, 'rules', 'aws_vpce_external_principal.py'),
        );
        const run = await tripline(['push', tree, '--server', fresh.url, '--key', TEST_ADMIN_KEY]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain('created   global helper panther_aws_helpers v1');
        expect(run.stdout).toContain(`created   ${SEED_ID} v1`);
        expect(run.stdout).toContain('1 created, 0 updated, 0 unchanged');
      } finally {
        await fresh.close();
        await removeDatabase(fresh);
      }
    });

    it("keeps the rules' cache in the database: a counter grows across batches", async () => {
      const rule = [
        'AnalysisType: rule',
        'RuleID: Test.Cache.RepeatedLogins',
        'Filename: repeated_logins.py',
        'LogTypes: [AWS.CloudTrail]',
        'Severity: Low',
        'Body: |',
        '  from panther_detection_helpers.caching import increment_counter',
        '  def rule(event):',
        '      if event.get("eventName") != "ConsoleLogin":',
        '          return False',
        "      return increment_counter(f\"logins:{event.deep_get('userIdentity', 'arn')}\") >= 3",
      ].join('\n');
      const uploaded = await http(running.url, 'POST', '/v1/rules', { body: rule });
      expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
      const login = (index: number) => ({
        eventID: `cache-login-${index}`,
        eventTime: '2026-01-01T00:00:00Z',
        eventSource: 'signin.amazonaws.com',
        eventName: 'ConsoleLogin',
        recipientAccountId: '111111111111',
        userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/alice' },
      });
      const hits: number[] = [];
      for (let index = 1; index <= 5; index += 1) {
        const answer = await http(running.url, 'POST', '/v1/events', { body: [login(index)] });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        hits.push(answer.body.hits as number);
      }
      expect(hits).toEqual([0, 0, 1, 1, 1]);
      const stored = await rows<{ counter: unknown }>(
        running,
        `SELECT "counter" FROM "rule_cache_entries" WHERE "cache_key" = ?`,
        ['logins:arn:aws:iam::111111111111:user/alice'],
      );
      expect(stored.map((row) => Number(row.counter))).toEqual([5]);
    });

    it('imports a pack of helpers and Python rules all or nothing', async () => {
      const fresh = await startApp({ builtinRules: false });
      try {
        const pack = [helperFile('panther_base_helpers'), helperFile('panther_aws_helpers'), SEED_RULE]
          .map(withBody)
          .join('---\n');
        const failing = pack.replace('ExpectedResult: true', 'ExpectedResult: false');
        const refused = await http(fresh.url, 'POST', '/v1/rules/import', { body: failing });
        expect(refused.status).toBe(422);
        expect(refused.body.code).toBe('rule_tests_failed');
        expect((await http(fresh.url, 'GET', '/v1/global-helpers')).body.items).toEqual([]);

        const imported = await http(fresh.url, 'POST', '/v1/rules/import', { body: pack });
        expect(imported.status, JSON.stringify(imported.body)).toBe(200);
        expect(imported.body.library).toEqual([
          { kind: 'global_helper', id: 'panther_base_helpers', action: 'created', version: 1 },
          { kind: 'global_helper', id: 'panther_aws_helpers', action: 'created', version: 1 },
        ]);
        expect(imported.body.rules).toMatchObject([
          { ruleId: SEED_ID, action: 'created', tests: { passed: 3 } },
        ]);
        const again = await http(fresh.url, 'POST', '/v1/rules/import', { body: pack });
        expect(again.body.library.map((item: { action: string }) => item.action)).toEqual([
          'unchanged',
          'unchanged',
        ]);
        expect(again.body.unchanged).toBe(1);
      } finally {
        await fresh.close();
        await removeDatabase(fresh);
      }
    });
  },
);
