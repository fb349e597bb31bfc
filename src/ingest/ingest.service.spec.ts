// The ingest service on in-memory stores: a batch is decoded, evaluated on the active rules and handed to
// the store whole; Idempotency-Keys replay or refuse; empty and wholly invalid batches are refused; log
// types no rule reads are warned of. No database, no app, no HTTP.
import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryIngestStore } from '../../test/support/in-memory-ingest-store.js';
import { refusal } from '../../test/support/refusal.js';
import { InMemoryRuleStore } from '../../test/support/in-memory-rule-store.js';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { loadConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ActiveRuleSet } from '../rules/active-rule-set.service.js';
import { RulesService } from '../rules/rules.service.js';
import { PythonChecks } from '../rules/python-checks.js';
import { EvaluationPool } from './evaluation-pool.js';
import { IDEMPOTENCY_TTL_MS, IngestService, type IngestRequest } from './ingest.service.js';

const DELETE_RULE = `AnalysisType: rule
RuleID: Test.Delete
LogTypes: [Custom.Audit]
Severity: High
Condition: action eq "delete"
AlertTitle: "{user} deleted"
Tests:
  - Name: delete
    ExpectedResult: true
    Log: { action: delete, user: ann }
`;

function request(events: unknown, options: Partial<Omit<IngestRequest, 'body'>> = {}): IngestRequest {
  return {
    body: Readable.from([Buffer.from(typeof events === 'string' ? events : JSON.stringify(events))]),
    contentType: 'application/json',
    contentEncoding: undefined,
    logType: undefined,
    idempotencyKey: undefined,
    ...options,
  };
}

const audit = (action: string, user = 'ann') => ({ p_log_type: 'Custom.Audit', action, user });

describe('IngestService', () => {
  let batches: InMemoryIngestStore;
  let ingest: IngestService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    const config = loadConfig({});
    const ruleStore = new InMemoryRuleStore();
    const active = new ActiveRuleSet(ruleStore, config);
    await new RulesService(ruleStore, active, new PythonChecks(config)).upsert(DELETE_RULE, {
      format: 'yaml',
      ignoreExtraKeys: false,
      storeDisabled: false,
      origin: 'api',
      actor: SYSTEM_ACTOR,
    });
    batches = new InMemoryIngestStore();
    const metrics = new MetricsService(() => ({ total: 1, idle: 1, waiting: 0 }));
    // No evaluation threads started (onModuleInit is not run): every batch is evaluated in place.
    ingest = new IngestService(config, batches, active, metrics, new EvaluationPool(config, active));
  });

  it('evaluates a batch on the active rules and hands the store its hits, batch and counts', async () => {
    const answer = await ingest.ingest(
      request([audit('delete', 'ann'), audit('read'), audit('delete', 'bob'), 'not an event']),
    );
    expect(answer).toMatchObject({
      batchId: 1,
      received: 4,
      accepted: 3,
      rejectedCount: 1,
      hits: 2,
      duplicateHits: 0,
      warnings: [],
      replayed: false,
    });
    expect(answer.rejected).toMatchObject([{ index: 3 }]);
    const [stored] = batches.batches;
    expect(stored?.record).toMatchObject({ received: 4, accepted: 3, rejected: 1, idempotencyKey: null });
    expect(
      stored?.hits.map((hit) => [hit.ruleId, hit.ruleVersion, hit.title, hit.severity, hit.logType]),
    ).toEqual([
      ['Test.Delete', 1, 'ann deleted', 'High', 'Custom.Audit'],
      ['Test.Delete', 1, 'bob deleted', 'High', 'Custom.Audit'],
    ]);
  });

  it('answers a retry with the same Idempotency-Key and body as the first time, storing it once', async () => {
    const events = [audit('delete')];
    const first = await ingest.ingest(request(events, { idempotencyKey: 'k-1' }));
    const again = await ingest.ingest(request(events, { idempotencyKey: 'k-1' }));
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ ...first, replayed: true });
    expect(batches.batches).toHaveLength(1);
    expect(batches.batches[0]?.record.idempotencyKey).toBe('k-1');
  });

  it('refuses the same Idempotency-Key with another body (409), storing nothing', async () => {
    await ingest.ingest(request([audit('delete')], { idempotencyKey: 'k-1' }));
    const error = await refusal(ingest.ingest(request([audit('delete', 'bob')], { idempotencyKey: 'k-1' })));
    expect([error.status, error.code]).toEqual([409, 'idempotency_key_reused']);
    // The same bytes sent with another log type are another request too.
    const logType = await refusal(
      ingest.ingest(request([audit('delete')], { idempotencyKey: 'k-1', logType: 'Custom.Audit' })),
    );
    expect(logType.code).toBe('idempotency_key_reused');
    expect(batches.batches).toHaveLength(1);
  });

  it('does not remember the key of a batch whose write failed: its retry is stored', async () => {
    batches.failNextBatch(new Error('disk full'));
    await expect(ingest.ingest(request([audit('delete')], { idempotencyKey: 'k-1' }))).rejects.toThrow(
      'disk full',
    );
    expect(batches.idempotencyKeys.size).toBe(0);
    const retry = await ingest.ingest(request([audit('delete')], { idempotencyKey: 'k-1' }));
    expect(retry).toMatchObject({ replayed: false, hits: 1 });
    expect(batches.batches).toHaveLength(1);
  });

  it('forgets Idempotency-Keys older than their time to live when it remembers one', async () => {
    batches.seedIdempotencyKey({
      key: 'old',
      requestHash: 'x',
      response: {},
      createdAt: new Date(Date.now() - IDEMPOTENCY_TTL_MS - 60_000),
    });
    batches.seedIdempotencyKey({ key: 'recent', requestHash: 'y', response: {}, createdAt: new Date() });
    await ingest.ingest(request([audit('delete')], { idempotencyKey: 'new' }));
    expect([...batches.idempotencyKeys.keys()].sort()).toEqual(['new', 'recent']);
  });

  it('refuses a batch with no events (no_events) or none valid (no_valid_events), storing nothing', async () => {
    const empty = await refusal(ingest.ingest(request('[]')));
    expect([empty.status, empty.code]).toEqual([400, 'no_events']);
    const invalid = await refusal(ingest.ingest(request([1, 'two', null])));
    expect([invalid.status, invalid.code]).toEqual([400, 'no_valid_events']);
    expect(invalid.extensions.rejected).toHaveLength(3);
    expect(batches.batches).toEqual([]);
  });

  it('warns of a log type no enabled rule reads, naming the near one, and still stores its events', async () => {
    const answer = await ingest.ingest(
      request([audit('delete'), { p_log_type: 'Custom.Audits', action: 'delete' }]),
    );
    expect(answer).toMatchObject({ accepted: 2, hits: 1 });
    expect(answer.warnings).toEqual([
      {
        code: 'no_rules_for_log_type',
        logType: 'Custom.Audits',
        events: 1,
        detail: 'no enabled rule reads log type Custom.Audits; did you mean Custom.Audit?',
      },
    ]);
    expect(batches.batches[0]?.record.accepted).toBe(2);
  });

  it('answers a forwarder batch with every event rejected without storing a batch', async () => {
    const answer = await ingest.ingestEvents([
      { index: 0, error: 'not JSON' },
      { index: 1, event: audit('delete'), logType: 'Custom.Audit' },
    ]);
    expect(answer).toMatchObject({ batchId: 1, received: 2, accepted: 1, hits: 1 });
    const none = await ingest.ingestEvents([{ index: 0, error: 'not JSON' }]);
    expect(none).toMatchObject({ batchId: 0, received: 1, accepted: 0, rejectedCount: 1 });
    expect(batches.batches).toHaveLength(1);
  });
});
