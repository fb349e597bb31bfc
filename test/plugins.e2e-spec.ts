// Rule formats and log types are plug-ins: a toy format whose detections run in another process, and a
// toy log type, both defined under test/ and registered from here, work through the API as the built-in
// ones do: upload with tests run in the backend, recognition by shape, retry dedup by event id, indicator
// and data-model fields, a forwarder's default sourcetype, and a restart that reads the rule back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRuleFormat, unregisterRuleFormat } from '../src/engine/formats/registry.js';
import { registerLogType, unregisterLogType } from '../src/engine/logtypes/index.js';
import { http, removeDatabase, startApp, TEST_ADMIN_KEY, type RunningApp } from './support/app.js';
import { TOY_FORMAT, ToyBackend, toyFormat } from './plugins/toy-format.js';
import { TOY_LOG_TYPE, toyLogType } from './plugins/toy-log-type.js';

const TOY_RULE = `toy-rule: Toy.BigTransfer
log-type: Toy.Transfers
severity: High
when: bytes above 1000000
expect-match: {"who": "ann", "bytes": 5000000}
expect-no-match: {"who": "bob", "bytes": 10}
`;

function transfer(id: string, who: string, bytes: number): Record<string, unknown> {
  return {
    toy_kind: 'transfer',
    transfer_id: id,
    at: 1735689600,
    who,
    peer: { address: '203.0.113.9' },
    bytes,
  };
}

interface HitItem {
  ruleId: string;
  title: string;
  logType: string;
  severity: string;
  outputFields: Record<string, unknown>;
}

describe('a toy rule format and a toy log type, registered from outside the engine', () => {
  const backend = new ToyBackend();
  let running: RunningApp;

  beforeAll(async () => {
    registerRuleFormat(toyFormat(backend));
    registerLogType(toyLogType);
    // After registration: the forwarder defaults are read with the configuration.
    running = await startApp({ builtinRules: false });
  });

  afterAll(async () => {
    await running.close();
    await backend.close();
    await removeDatabase(running);
    unregisterRuleFormat(TOY_FORMAT);
    unregisterLogType(TOY_LOG_TYPE);
  });

  it('uploads a toy rule: its reader reads it, its backend runs its tests, it is stored under its format', async () => {
    const before = backend.requestsAnswered;
    const created = await http(running.url, 'POST', '/v1/rules', {
      body: TOY_RULE,
      contentType: 'text/plain',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.rule).toMatchObject({
      ruleId: 'Toy.BigTransfer',
      detectionLanguage: TOY_FORMAT,
      logTypes: [TOY_LOG_TYPE],
      severity: 'High',
      enabled: true,
    });
    expect(created.body.tests.map((test: { passed: boolean }) => test.passed)).toEqual([true, true]);
    expect(backend.requestsAnswered - before).toBe(2);

    const broken = await http(running.url, 'POST', '/v1/rules', {
      body: TOY_RULE.replace('bytes above 1000000', 'bytes over 1000000'),
      contentType: 'text/plain',
    });
    expect(broken.status).toBe(422);
    expect(JSON.stringify(broken.body)).toContain('when must read');
  });

  it('ingests toy events by their shape, hits come from the backend with its title, a retry adds none', async () => {
    const batch = [
      transfer('t-1', 'ann', 5_000_000),
      transfer('t-2', 'bob', 10),
      transfer('t-3', 'cy', 2_000_000),
    ];
    const first = await http(running.url, 'POST', '/v1/events', { body: batch });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ received: 3, accepted: 3, hits: 2, duplicateHits: 0, warnings: [] });
    const retry = await http(running.url, 'POST', '/v1/events', { body: batch });
    expect(retry.body).toMatchObject({ accepted: 3, hits: 0, duplicateHits: 2 });

    const hits = await http<{ items: HitItem[] }>(running.url, 'GET', '/v1/hits?ruleId=Toy.BigTransfer');
    expect(hits.body.items.map((hit) => hit.title).sort()).toEqual(['ann moved 5000000', 'cy moved 2000000']);
    for (const hit of hits.body.items) expect(hit).toMatchObject({ logType: TOY_LOG_TYPE, severity: 'High' });
    // The toy log type's indicators are fields hits are found by.
    const byUser = await http<{ items: HitItem[] }>(running.url, 'GET', '/v1/hits?field.p_any_usernames=cy');
    expect(byUser.body.items.map((hit) => hit.outputFields)).toEqual([{ who: 'cy' }]);
  });

  it('a condition rule reads the toy data model, beside the toy rule', async () => {
    const rule = `AnalysisType: rule
RuleID: Toy.PeerWatch
LogTypes: [Toy.Transfers]
Severity: Low
Condition:
  - p_udm.source_ip eq "203.0.113.9" and p_udm.event_type eq "transfer"
AlertTitle: "{p_udm.actor_user} talked to the watched peer"
`;
    expect((await http(running.url, 'POST', '/v1/rules', { body: rule })).status).toBe(201);
    const sent = await http(running.url, 'POST', '/v1/events', { body: [transfer('t-4', 'dee', 3_000_000)] });
    expect(sent.body).toMatchObject({ accepted: 1, hits: 2 });
    const watched = await http<{ items: HitItem[] }>(running.url, 'GET', '/v1/hits?ruleId=Toy.PeerWatch');
    expect(watched.body.items.map((hit) => hit.title)).toEqual(['dee talked to the watched peer']);
  });

  it('a forwarder names the toy log type by the sourcetype its module gives', async () => {
    const envelope = {
      sourcetype: 'toy:transfers',
      event: { transfer_id: 't-5', who: 'eve', bytes: 7_000_000 },
    };
    const sent = await http(running.url, 'POST', '/services/collector/event', {
      body: JSON.stringify(envelope),
      contentType: 'application/json',
      key: null,
      headers: { authorization: `Splunk ${TEST_ADMIN_KEY}` },
    });
    expect(sent.status, sent.text).toBe(200);
    const hits = await http<{ items: HitItem[] }>(running.url, 'GET', '/v1/hits?field.who=eve');
    expect(hits.body.items.map((hit) => [hit.ruleId, hit.logType])).toEqual([
      ['Toy.BigTransfer', TOY_LOG_TYPE],
    ]);
  });

  it('after a restart, the stored toy rule is read back through its format and runs', async () => {
    await running.close();
    running = await startApp({ databaseUrl: running.databaseUrl, builtinRules: false });
    const rule = await http(running.url, 'GET', '/v1/rules/Toy.BigTransfer');
    expect(rule.body).toMatchObject({ detectionLanguage: TOY_FORMAT });
    const sent = await http(running.url, 'POST', '/v1/events', { body: [transfer('t-6', 'fay', 9_000_000)] });
    expect(sent.body).toMatchObject({ accepted: 1, hits: 2 });
  });
});
