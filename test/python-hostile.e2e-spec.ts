// Hostile Python rules uploaded through the API, on SQLite and on PostgreSQL: each one tries to break a
// wall of the sandbox and would match (a hit) only if it got through. Every batch is still answered 200,
// the honest rule beside them still hits, each hostile rule's error is counted on the rule and in
// /metrics, and the service stays up. Needs the host's Python 3 and bubblewrap (.ci/run installs them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_SANDBOX_OPTIONS, sandboxProblem } from '../src/engine/python/sandbox.js';
import { http, removeDatabase, startApp, TEST_DATABASE, type RunningApp } from './support/app.js';

const PROBLEM = sandboxProblem(DEFAULT_SANDBOX_OPTIONS);

/** A Python rule as one YAML document, its source under Body. */
function pythonRule(ruleId: string, body: string, tests: object[] = []): string {
  return stringify({
    AnalysisType: 'rule',
    RuleID: ruleId,
    Filename: `${ruleId.toLowerCase().replaceAll('.', '_')}.py`,
    LogTypes: ['AWS.CloudTrail'],
    Severity: 'Low',
    Enabled: true,
    Body: body,
    ...(tests.length > 0 ? { Tests: tests } : {}),
  });
}

const EVENT = {
  eventVersion: '1.08',
  eventTime: '2026-01-01T00:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  recipientAccountId: '111111111111',
  ok: true,
};

describe.skipIf(PROBLEM !== undefined)(
  PROBLEM === undefined
    ? 'hostile Python rules uploaded through the API'
    : `hostile Python rules uploaded through the API — SKIPPED: ${PROBLEM}`,
  () => {
    let running: RunningApp;
    /** A file of the host the rules must not read: the SQLite database, or PostgreSQL's data folder. */
    let hostFile = '';

    const HOSTILE = (): Record<string, { body: string; error: RegExp }> => ({
      'Hostile.ReadPasswd': {
        body: 'def rule(event):\n    return "root" in open("/etc/passwd").read()\n',
        error: /FileNotFoundError: .*\/etc\/passwd/,
      },
      'Hostile.ReadDatabase': {
        body: `def rule(event):\n    return len(open(${JSON.stringify(hostFile)}, "rb").read(1)) > 0\n`,
        error: /FileNotFoundError|IsADirectoryError|PermissionError/,
      },
      'Hostile.Socket': {
        body: 'import socket\ndef rule(event):\n    socket.create_connection(("127.0.0.1", 5432), timeout=1)\n    return True\n',
        error: /PermissionError|OSError/,
      },
      'Hostile.System': {
        body: 'import os\ndef rule(event):\n    status = os.system("id")\n    assert status == 0, f"os.system answered {status}"\n    return True\n',
        error: /AssertionError: os.system answered|PermissionError/,
      },
      'Hostile.ForkBomb': {
        body: 'import os\ndef rule(event):\n    while True:\n        os.fork()\n',
        error: /PermissionError/,
      },
      'Hostile.SwallowingLoop': {
        body: 'def rule(event):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n',
        error: /did not answer within|RuleTimeout/,
      },
      'Hostile.Allocation': {
        body: 'def rule(event):\n    block = bytearray(4 * 1024 ** 3)\n    return len(block) > 0\n',
        error: /MemoryError/,
      },
      'Hostile.Regex': {
        body: 'import re\ndef rule(event):\n    return re.match(r"(a+)+$", "a" * 64 + "b") is not None\n',
        error: /did not answer within|RuleTimeout/,
      },
      'Hostile.LoadForever': {
        body: 'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n\ndef rule(event):\n    return True\n',
        error: /never finished/,
      },
    });

    beforeAll(async () => {
      running = await startApp({
        builtinRules: false,
        env: { PYTHON_CALL_SECONDS: '1', PYTHON_REQUEST_DEADLINE_MS: '5000', PYTHON_WORKER_MEMORY_MB: '512' },
      });
      hostFile =
        TEST_DATABASE === 'sqlite' ? running.databaseUrl.slice('sqlite:'.length) : '/var/lib/postgresql';
    });

    afterAll(async () => {
      await running.close();
      await removeDatabase(running);
    });

    it('answers every batch, keeps the honest rule hitting, and counts each hostile rule’s error on it and in /metrics', async () => {
      const honest = await http(running.url, 'POST', '/v1/rules', {
        body: pythonRule('Honest.Python', 'def rule(event):\n    return event.get("ok") is True\n', [
          { Name: 'ok', ExpectedResult: true, Log: EVENT },
        ]),
      });
      expect(honest.status, JSON.stringify(honest.body)).toBe(201);
      for (const [ruleId, { body }] of Object.entries(HOSTILE())) {
        const uploaded = await http(running.url, 'POST', '/v1/rules', { body: pythonRule(ruleId, body) });
        expect(uploaded.status, `${ruleId}: ${JSON.stringify(uploaded.body)}`).toBe(201);
      }

      for (const round of [1, 2]) {
        const answer = await http(running.url, 'POST', '/v1/events', {
          body: [{ ...EVENT, eventID: `event-${round}` }],
        });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        // Only the honest rule: a hostile rule matches only if it broke through.
        expect(answer.body.hits).toBe(1);
      }

      const hits = await http(running.url, 'GET', '/v1/hits?limit=50');
      expect(hits.body.items.map((hit: { ruleId: string }) => hit.ruleId)).toEqual([
        'Honest.Python',
        'Honest.Python',
      ]);
      for (const [ruleId, { error }] of Object.entries(HOSTILE())) {
        const rule = await http(running.url, 'GET', `/v1/rules/${ruleId}`);
        expect(rule.body.errors.count, ruleId).toBeGreaterThanOrEqual(2);
        expect(rule.body.errors.last, ruleId).toMatch(error);
      }
      const metrics = await http(running.url, 'GET', '/metrics');
      for (const ruleId of Object.keys(HOSTILE()))
        expect(metrics.text).toMatch(new RegExp(`tripline_rule_errors_total\\{rule_id="${ruleId}"\\} [1-9]`));
      expect((await http(running.url, 'GET', '/healthz')).status).toBe(200);
    }, 240_000);
  },
);
