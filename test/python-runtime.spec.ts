// Panther's Python rules in the sandboxed workers: the rule functions and their outputs, tests with
// Mocks, Panther's catalogue through `tripline test`, and the walls around an uploaded rule. Needs the
// host's Python 3 and bubblewrap (.ci/run installs them); without them the suite says so in its title.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendVerdict } from '../src/engine/formats/rule-format.js';
import { PythonRuntime } from '../src/engine/python/python-runtime.js';
import { DEFAULT_SANDBOX_OPTIONS, sandboxProblem } from '../src/engine/python/sandbox.js';
import type { RuleTest } from '../src/engine/rule.js';
import { tripline } from './support/cli.js';
import { CORPUS_TOOL, hasShared, makeCorpus, SHARED_DIR, sharedSuiteTitle } from './support/shared.js';

const PROBLEM = sandboxProblem(DEFAULT_SANDBOX_OPTIONS);
const CATALOGUE = join(SHARED_DIR, 'panther-analysis');

function suiteTitle(title: string): string {
  return PROBLEM === undefined ? title : `${title} — SKIPPED: ${PROBLEM}`;
}

const CLOUDTRAIL_HELPER = `
def account_of(event):
    return event.deep_get("userIdentity", "accountId", default="unknown")
`;

const OUTPUTS_RULE = `
from tripline_test_helpers import account_of

WATCHED = ["DeleteTrail", "StopLogging"]

def rule(event):
    return event.get("EVENTNAME") in WATCHED

def title(event):
    return f"{event.get('eventName')} by {account_of(event)}"

def severity(event):
    return "DEFAULT" if event.get("eventName") == "StopLogging" else "critical"

def alert_context(event):
    return {"actor": event.udm("actor"), "trail": event.deep_get("requestParameters", "name")}
`;

/** Rules as a runtime knows them: each defined rule's key, which requests and tests name it by. */
function ruleKeys(runtime: () => PythonRuntime) {
  const keys = new Map<string, string>();
  return {
    define: (ruleId: string, file: string, body: string, logTypes: readonly string[]): void => {
      keys.set(ruleId, runtime().defineRule(ruleId, file, body, logTypes));
    },
    key: (ruleId: string): string => {
      const known = keys.get(ruleId);
      if (known === undefined) throw new Error(`rule ${ruleId} was not defined`);
      return known;
    },
  };
}

function verdictOf(verdicts: BackendVerdict[][], request: number, rule = 0): BackendVerdict | undefined {
  return verdicts[request]?.[rule];
}

describe.skipIf(PROBLEM !== undefined)(suiteTitle('Python rules in the sandboxed runtime'), () => {
  let runtime: PythonRuntime;
  const { define, key } = ruleKeys(() => runtime);

  beforeAll(() => {
    runtime = new PythonRuntime({ workers: 1, requestDeadlineMs: 20_000 });
    runtime.setLibrary({
      helpers: [
        {
          globalId: 'tripline_test_helpers',
          filename: 'tripline_test_helpers.py',
          body: CLOUDTRAIL_HELPER,
          source: { line: 1, text: '' },
        },
      ],
      dataModels: [
        {
          dataModelId: 'Test.CloudTrail',
          enabled: true,
          logTypes: ['AWS.CloudTrail'],
          mappings: [{ name: 'actor', path: '$.userIdentity.arn' }],
          source: { line: 1, text: '' },
        },
      ],
    });
    define('Test.Outputs', 'outputs.py', OUTPUTS_RULE, ['AWS.CloudTrail']);
    define('Test.Broken', 'broken.py', 'def rule(event):\n    return event["missing"]\n', []);
    define('Test.NotBool', 'not_bool.py', 'def rule(event):\n    return "yes"\n', []);
    define('Test.Syntax', 'syntax.py', 'def rule(event)\n    return True\n', []);
  });

  afterAll(() => runtime.close());

  it('runs rule() on each event and gives the outputs of the optional functions', async () => {
    const deleted = {
      p_log_type: 'AWS.CloudTrail',
      eventName: 'DeleteTrail',
      userIdentity: { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:user/mallory' },
      requestParameters: { name: 'main' },
    };
    const stopped = { ...deleted, eventName: 'StopLogging' };
    const other = { ...deleted, eventName: 'DescribeTrails' };
    const verdicts = await runtime.evaluate([
      { event: deleted, ruleIds: [key('Test.Outputs')] },
      { event: stopped, ruleIds: [key('Test.Outputs')] },
      { event: other, ruleIds: [key('Test.Outputs')] },
    ]);
    expect(verdictOf(verdicts, 0)).toEqual({
      matched: true,
      outputs: {
        title: 'DeleteTrail by 123456789012',
        // No dedup(): the title stands in for it, as in Panther.
        dedup: 'DeleteTrail by 123456789012',
        severity: 'Critical',
        alertContext: { actor: 'arn:aws:iam::123456789012:user/mallory', trail: 'main' },
      },
    });
    // "DEFAULT" leaves the rule's own severity in place.
    expect(verdictOf(verdicts, 1)).toMatchObject({
      matched: true,
      outputs: { title: 'StopLogging by 123456789012' },
    });
    expect((verdictOf(verdicts, 1) as { outputs: object }).outputs).not.toHaveProperty('severity');
    expect(verdictOf(verdicts, 2)).toEqual({ matched: false });
  });

  it('reports a rule that fails, returns a non-bool or does not compile, with the function and the line', async () => {
    const event = { eventName: 'x' };
    const verdicts = await runtime.evaluate([
      { event, ruleIds: [key('Test.Broken'), key('Test.NotBool'), key('Test.Syntax'), key('Test.Outputs')] },
    ]);
    expect(verdictOf(verdicts, 0, 0)).toEqual({ error: "rule(): KeyError: 'missing' (broken.py, line 2)" });
    expect(verdictOf(verdicts, 0, 1)).toEqual({ error: 'rule() returned str, not bool' });
    expect(verdictOf(verdicts, 0, 2)).toMatchObject({
      error: expect.stringMatching(/SyntaxError: .*\(syntax\.py, line 1\)/),
    });
    expect(verdictOf(verdicts, 0, 3)).toEqual({ matched: false });
  });

  it('keeps a version of a rule being tested beside the version ingest runs', async () => {
    const active = runtime.defineRule('Test.Versioned', 'v.py', 'def rule(event):\n    return True\n', []);
    const candidate = runtime.defineRule(
      'Test.Versioned',
      'v.py',
      'def rule(event):\n    return False\n',
      [],
    );
    expect(candidate).not.toBe(active);
    expect(runtime.defineRule('Test.Versioned', 'v.py', 'def rule(event):\n    return True\n', [])).toBe(
      active,
    );
    const verdicts = await runtime.evaluate([{ event: {}, ruleIds: [active, candidate] }]);
    expect(verdicts[0]).toEqual([{ matched: true, outputs: {} }, { matched: false }]);
  });

  it('imports boto3 as a stand-in that fails, with the reason, only when used', async () => {
    define(
      'Test.Boto',
      'boto.py',
      'import boto3\n\ndef rule(event):\n    return boto3.client("s3") is not None\n',
      [],
    );
    const verdicts = await runtime.evaluate([{ event: {}, ruleIds: [key('Test.Boto')] }]);
    expect(verdictOf(verdicts, 0)).toEqual({
      error:
        "rule(): UnavailableModuleError: boto3.client cannot be used: the AWS SDK needs the network, which rules in Tripline's sandbox do not have (boto.py, line 4)",
    });
  });

  it('starts a new worker for the next request after close(), which only ends the workers it had', async () => {
    const event = { p_log_type: 'AWS.CloudTrail', eventName: 'DeleteTrail' };
    await runtime.evaluate([{ event, ruleIds: [key('Test.Outputs')] }]);
    runtime.close();
    const again = await runtime.evaluate([{ event, ruleIds: [key('Test.Outputs')] }]);
    expect(verdictOf(again, 0)).toMatchObject({
      matched: true,
      outputs: { title: 'DeleteTrail by unknown' },
    });
  });

  it("applies a test's Mocks to the rule's module, and fails a test whose other functions fail", async () => {
    define(
      'Test.Mocked',
      'mocked.py',
      [
        'import json',
        'def lookup(name):',
        '    raise RuntimeError("no lookups in tests")',
        'def rule(event):',
        '    return event.get("user") in json.loads(lookup("admins"))',
        'def title(event):',
        '    return 1 / 0',
      ].join('\n'),
      [],
    );
    const test = (mocks: RuleTest['mocks']): RuleTest => ({
      name: 'mocked',
      expectedResult: true,
      log: { user: 'alice' },
      ...(mocks ? { mocks } : {}),
    });
    const mocked = await runtime.runTest(
      key('Test.Mocked'),
      test([{ objectName: 'lookup', returnValue: '["alice"]' }]),
      {
        user: 'alice',
      },
    );
    expect(mocked).toEqual({
      matched: true,
      outputs: {},
      functionErrors: { title: 'title(): ZeroDivisionError: division by zero (mocked.py, line 7)' },
    });
    const unmocked = await runtime.runTest(key('Test.Mocked'), test(undefined), { user: 'alice' });
    expect(unmocked).toEqual({ error: 'rule(): RuntimeError: no lookups in tests (mocked.py, line 3)' });
    const unknown = await runtime.runTest(
      key('Test.Mocked'),
      test([{ objectName: 'nothing', returnValue: 'x' }]),
      {},
    );
    expect(unknown).toEqual({ error: 'Mocks: nothing is not a name in mocked.py' });
  });
});

describe.skipIf(PROBLEM !== undefined)(suiteTitle('the walls around a Python rule'), () => {
  let runtime: PythonRuntime;
  const { define, key } = ruleKeys(() => runtime);
  let hostFile = '';

  beforeAll(() => {
    // A file of the host that a rule must not read, as the database file is.
    const directory = mkdtempSync(join(tmpdir(), 'tripline-walls-'));
    hostFile = join(directory, 'tripline.sqlite');
    writeFileSync(hostFile, 'secret');
    runtime = new PythonRuntime({
      workers: 1,
      // Long enough for any honest rule on a busy machine; the hostile ones never finish.
      requestDeadlineMs: 8_000,
      sandbox: { ...DEFAULT_SANDBOX_OPTIONS, callSeconds: 1, memoryMb: 512 },
    });
  });

  afterAll(() => runtime.close());

  const HOSTILE: Record<string, string> = {
    'Hostile.ReadPasswd': 'def rule(event):\n    return "root" in open("/etc/passwd").read()\n',
    'Hostile.ReadDatabase': '', // set in the test: names the host file
    'Hostile.Socket':
      'import socket\ndef rule(event):\n    socket.create_connection(("127.0.0.1", 5432), timeout=1)\n    return True\n',
    'Hostile.System': 'import subprocess\ndef rule(event):\n    subprocess.run(["id"])\n    return True\n',
    'Hostile.ForkBomb': 'import os\ndef rule(event):\n    while True:\n        os.fork()\n',
    'Hostile.SwallowingLoop':
      'def rule(event):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n',
    'Hostile.Allocation':
      'def rule(event):\n    block = bytearray(4 * 1024 ** 3)\n    return len(block) > 0\n',
    'Hostile.Regex':
      'import re\ndef rule(event):\n    return re.match(r"(a+)+$", "a" * 64 + "b") is not None\n',
  };

  it('holds every wall, answers for the honest rule beside them, and replaces the worker it killed', async () => {
    HOSTILE['Hostile.ReadDatabase'] =
      `def rule(event):\n    return len(open(${JSON.stringify(hostFile)}).read()) > 0\n`;
    for (const [ruleId, body] of Object.entries(HOSTILE)) define(ruleId, `${ruleId}.py`, body, []);
    define('Honest', 'honest.py', 'def rule(event):\n    return event.get("ok") is True\n', []);
    const ruleIds = [...Object.keys(HOSTILE), 'Honest'];
    const verdicts = await runtime.evaluate([{ event: { ok: true }, ruleIds: ruleIds.map(key) }]);
    const byRule = Object.fromEntries(
      ruleIds.map((ruleId, index) => [ruleId, verdictOf(verdicts, 0, index)]),
    );

    expect(byRule.Honest).toEqual({ matched: true, outputs: {} });
    const error = (ruleId: string) => (byRule[ruleId] as { error?: string }).error ?? '';
    expect(error('Hostile.ReadPasswd')).toMatch(/FileNotFoundError: .*\/etc\/passwd/);
    expect(error('Hostile.ReadDatabase')).toMatch(/FileNotFoundError/);
    expect(error('Hostile.Socket')).toMatch(/PermissionError|OSError/);
    expect(error('Hostile.System')).toMatch(/PermissionError/);
    expect(error('Hostile.ForkBomb')).toMatch(/PermissionError/);
    expect(error('Hostile.Allocation')).toMatch(/MemoryError/);
    // Interrupted inside (the per-call limit) or killed from outside (the deadline): never an answer.
    expect(error('Hostile.SwallowingLoop')).toMatch(/did not answer within|RuleTimeout/);
    expect(error('Hostile.Regex')).toMatch(/did not answer within|RuleTimeout/);

    // The worker that was killed was replaced: the runtime still answers.
    const after = await runtime.evaluate([{ event: { ok: true }, ruleIds: [key('Honest')] }]);
    expect(verdictOf(after, 0)).toEqual({ matched: true, outputs: {} });
  });

  it('suspends a rule that ended its worker three times in a row, so that it stops costing each batch a deadline', async () => {
    const quick = new PythonRuntime({
      workers: 1,
      // Ample for the honest rule's load and call on a busy machine; the stuck one never finishes.
      requestDeadlineMs: 4_000,
      sandbox: { ...DEFAULT_SANDBOX_OPTIONS, callSeconds: 1 },
    });
    try {
      const stuck = quick.defineRule(
        'Hostile.Stuck',
        'stuck.py',
        'def rule(event):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n',
        [],
      );
      const honest = quick.defineRule('Honest', 'honest.py', 'def rule(event):\n    return True\n', []);
      for (let round = 1; round <= 3; round += 1) {
        const [row = []] = await quick.evaluate([{ event: {}, ruleIds: [stuck, honest] }]);
        expect(row[0]).toMatchObject({ error: expect.stringMatching(/did not answer within 4000 ms$/) });
        expect(row[1]).toEqual({ matched: true, outputs: {} });
      }
      const [row = []] = await quick.evaluate([{ event: {}, ruleIds: [stuck, honest] }]);
      expect(row[0]).toMatchObject({
        error: expect.stringMatching(/ended its worker 3 times in a row and is not evaluated until /),
      });
      expect(row[1]).toEqual({ matched: true, outputs: {} });
    } finally {
      quick.close();
    }
  });

  it('blames a rule whose top level never finishes loading on that rule alone, and keeps loading the others', async () => {
    define(
      'Hostile.LoadLoop',
      'load_loop.py',
      'while True:\n    pass\n\ndef rule(event):\n    return True\n',
      [],
    );
    define(
      'Hostile.LoadSwallow',
      'load_swallow.py',
      'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n\ndef rule(event):\n    return True\n',
      [],
    );
    const ruleIds = ['Hostile.LoadLoop', 'Hostile.LoadSwallow', 'Honest'].map(key);
    const [verdicts = []] = await runtime.evaluate([{ event: { ok: true }, ruleIds }]);
    // Interrupted by the per-call limit while loading: that rule's error.
    expect(verdicts[0]).toMatchObject({
      error: expect.stringMatching(/did not load: .*RuleTimeout: loading load_loop\.py/),
    });
    // Swallows the limit: the load is killed, each rule is loaded alone, and only this one is left out.
    expect(verdicts[1]).toMatchObject({
      error: expect.stringMatching(/loading load_swallow\.py never finished/),
    });
    expect(verdicts[2]).toEqual({ matched: true, outputs: {} });
    const again = await runtime.evaluate([{ event: { ok: true }, ruleIds: [key('Honest')] }]);
    expect(verdictOf(again, 0)).toEqual({ matched: true, outputs: {} });
  });
});

describe.skipIf(PROBLEM !== undefined || !hasShared(CATALOGUE))(
  PROBLEM === undefined
    ? sharedSuiteTitle("tripline test on Panther's catalogue", CATALOGUE)
    : suiteTitle("tripline test on Panther's catalogue"),
  () => {
    it('passes the tests of the Python rules, the seed rule among them', async () => {
      const run = await tripline(['test', CATALOGUE]);
      const lines = run.stdout.trimEnd().split('\n');
      const [passed, failed] = (/^(\d+) passed, (\d+) failed$/.exec(lines.at(-1) ?? '') ?? [])
        .slice(1)
        .map(Number);
      expect(passed).toBe(1150);
      expect(failed).toBe(0);
      for (const name of ['External Principal Access', 'Same Account Access', 'Non-VPC Event'])
        expect(lines).toContain(`PASS AWS.CloudTrail.VPCE.ExternalPrincipal › ${name}`);
      // The three tests of the one correlation rule are not run: the file is left out, and said to be.
      expect(run.stderr).toMatch(
        /aws_cloudtrail_ses_enumeration\.yml:1: warning: left out: AnalysisType correlation_rule is not something Tripline runs yet \(its tests are not run\)/,
      );
      expect(run.code).toBe(0);
    });

    it.skipIf(!hasShared(CORPUS_TOOL))(
      sharedSuiteTitle(
        'finds the same hits with the guards read from the rules as without them',
        CORPUS_TOOL,
      ),
      async () => {
        // The CloudTrail rules with their helpers and data models, but the correlation rule (left out).
        const directory = mkdtempSync(join(tmpdir(), 'tripline-guards-'));
        for (const folder of ['global_helpers', 'data_models', 'rules/aws_cloudtrail_rules'])
          cpSync(join(CATALOGUE, folder), join(directory, folder), { recursive: true });
        rmSync(join(directory, 'rules/aws_cloudtrail_rules/aws_cloudtrail_ses_enumeration.yml'));
        const corpus = await makeCorpus(
          5_000,
          join(mkdtempSync(join(tmpdir(), 'tripline-corpus-')), 'events.ndjson'),
        );
        const evaluate = (guards: 'on' | 'off') =>
          tripline(['eval', '--rules', directory, '--events', corpus.file], {
            env: { TRIPLINE_PYTHON_GUARDS: guards },
          });
        const [guarded, unguarded] = [await evaluate('on'), await evaluate('off')];
        expect(guarded.code).toBe(0);
        const hits = guarded.stdout.trimEnd().split('\n');
        expect(hits.length).toBeGreaterThan(1_000);
        expect(guarded.stdout).toBe(unguarded.stdout);
        // The guards were applied before sending, too: rule calls were spared, none without them.
        const spared = (run: { stderr: string }) =>
          Number(/(\d+) rule calls spared by the rules' guards/.exec(run.stderr)?.[1] ?? NaN);
        expect(spared(guarded)).toBeGreaterThan(10_000);
        expect(spared(unguarded)).toBe(0);
        // The seed rule among them finds the corpus's external principals.
        const seedHits = hits.filter((line) =>
          line.includes('"ruleId":"AWS.CloudTrail.VPCE.ExternalPrincipal"'),
        );
        expect(seedHits).toHaveLength(corpus.expected.externalPrincipal);
      },
    );
  },
);
