// GET /metrics over real HTTP: Prometheus text, scraped with a read key, and counters that move by exactly
// what a batch did.
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { http, removeDatabase, startApp, type RunningApp } from './support/app.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

/** Samples of a Prometheus text exposition, by `name{label="value",…}` with labels sorted by name. */
type Samples = Map<string, number>;

function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels = [...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
      ([, label = '', labelValue = '']) => [label, labelValue] as const,
    );
    samples.set(sampleKey(name, Object.fromEntries(labels)), Number(value));
  }
  return samples;
}

function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((label) => `${label}="${labels[label] ?? ''}"`);
  return sorted.length === 0 ? name : `${name}{${sorted.join(',')}}`;
}

/** A sample's value; an absent series counts as 0, as Prometheus counters start there. */
function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(sampleKey(name, labels)) ?? 0;
}

async function scrape(base: string, key?: string): Promise<Samples> {
  const answer = await http<string>(base, 'GET', '/metrics', key === undefined ? {} : { key });
  expect(answer.status, answer.text).toBe(200);
  return parseMetrics(answer.text);
}

async function ingest(base: string, events: unknown[]): Promise<any> {
  const answer = await http(base, 'POST', '/v1/events', { body: events });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

describe('GET /metrics', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('answers Prometheus text to a read key, 401 without a key and 403 to an ingest key', async () => {
    const anonymous = await http(running.url, 'GET', '/metrics', { key: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('api_key_required');

    const keys: Record<string, string> = {};
    for (const scope of ['read', 'ingest']) {
      const created = await http(running.url, 'POST', '/v1/api-keys', {
        body: { name: scope, scopes: [scope] },
      });
      expect(created.status).toBe(201);
      keys[scope] = created.body.key as string;
    }
    const answer = await http<string>(running.url, 'GET', '/metrics', { key: keys.read ?? '' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.text).toContain('# TYPE tripline_events_received_total counter');
    expect(answer.text).toContain('# TYPE tripline_ingest_batch_duration_seconds histogram');
    expect((await http(running.url, 'GET', '/metrics', { key: keys.ingest ?? '' })).status).toBe(403);

    const samples = parseMetrics(answer.text);
    const total = sample(samples, 'tripline_database_pool_connections');
    const idle = sample(samples, 'tripline_database_pool_idle_connections');
    if (running.app.get(DataSource).options.type === 'postgres') {
      expect(total).toBeGreaterThanOrEqual(1);
      expect(idle).toBeLessThanOrEqual(total);
    } else {
      // SQLite: one connection, always open.
      expect([total, idle]).toEqual([1, 1]);
      expect(sample(samples, 'tripline_database_pool_waiting_queries')).toBe(0);
    }
    expect(samples.has('tripline_database_pool_waiting_queries')).toBe(true);
    // prom-client's process metrics come with it.
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
    expect(samples.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('is in the OpenAPI document, tagged metrics, version-neutral and needing a read key', async () => {
    const document = await http(running.url, 'GET', '/docs-json', { key: null });
    const operation = document.body.paths['/metrics'].get;
    expect(operation.tags).toEqual(['metrics']);
    expect(operation['x-required-scope']).toBe('read');
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/plain']);
  });

  it('counts the seed events: exactly what the batch received, accepted, stored and opened', async () => {
    const before = await scrape(running.url);
    const answer = await ingest(running.url, [
      seedExternalPrincipalAccess(),
      seedSameAccountAccess(),
      seedNonVpcEvent(),
    ]);
    expect(answer).toMatchObject({ received: 3, accepted: 3, hits: 1, alerts: 1 });
    const after = await scrape(running.url);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);

    const cloudTrail = { log_type: 'AWS.CloudTrail' };
    expect(moved('tripline_events_received_total', cloudTrail)).toBe(3);
    expect(moved('tripline_events_accepted_total', cloudTrail)).toBe(3);
    expect(moved('tripline_events_rejected_total', cloudTrail)).toBe(0);
    expect(moved('tripline_hits_stored_total', { rule_id: SEED_RULE_ID })).toBe(1);
    expect(moved('tripline_alerts_opened_total', { rule_id: SEED_RULE_ID })).toBe(1);
    expect(moved('tripline_rule_errors_total', { rule_id: SEED_RULE_ID })).toBe(0);
    expect(moved('tripline_ingest_batch_duration_seconds_count')).toBe(1);
    expect(moved('tripline_ingest_batch_duration_seconds_sum')).toBeGreaterThan(0);
    expect(moved('tripline_ingest_evaluation_duration_seconds_count')).toBe(1);
    // Evaluation is part of the batch's time.
    expect(moved('tripline_ingest_evaluation_duration_seconds_sum')).toBeLessThanOrEqual(
      moved('tripline_ingest_batch_duration_seconds_sum'),
    );
  });

  it('counts rejected events by log type, "unknown" when they have none', async () => {
    const before = await scrape(running.url);
    await ingest(running.url, [
      { p_log_type: 'Custom.Metrics', n: 1 },
      { ...seedSameAccountAccess(), eventTime: '1601-01-01T00:00:00Z' },
      7,
      { no: 'log type' },
    ]);
    const after = await scrape(running.url);
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    const expected: [Record<string, string>, number, number][] = [
      [{ log_type: 'Custom.Metrics' }, 1, 0],
      [{ log_type: 'AWS.CloudTrail' }, 0, 1],
      [{ log_type: 'unknown' }, 0, 2],
    ];
    for (const [labels, accepted, rejected] of expected) {
      expect(moved('tripline_events_received_total', labels), labels.log_type).toBe(accepted + rejected);
      expect(moved('tripline_events_accepted_total', labels), labels.log_type).toBe(accepted);
      expect(moved('tripline_events_rejected_total', labels), labels.log_type).toBe(rejected);
    }
  });

  it('counts hits and alerts per rule exactly when duplicates are dropped and several rules match', async () => {
    const rule = `AnalysisType: rule
RuleID: Test.Metrics.GetObject
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "GetObject"
AlertTitle: GetObject
Threshold: 2
Tests:
  - Name: get
    ExpectedResult: true
    Log: { eventName: GetObject }
`;
    expect((await http(running.url, 'POST', '/v1/rules', { body: rule })).status).toBe(201);
    const at = (event: Record<string, unknown>, eventID: string) => ({
      ...event,
      eventID,
      eventTime: '2024-05-01T00:00:00Z',
    });
    const before = await scrape(running.url);
    const answer = await ingest(running.url, [
      at(seedExternalPrincipalAccess(), 'metrics-1'),
      // The same CloudTrail eventID again: neither rule stores it twice.
      at(seedExternalPrincipalAccess(), 'metrics-1'),
      at(seedSameAccountAccess(), 'metrics-2'),
    ]);
    expect(answer).toMatchObject({ accepted: 3, hits: 3, duplicateHits: 2, alerts: 2 });
    const after = await scrape(running.url);
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('tripline_hits_stored_total', { rule_id: SEED_RULE_ID })).toBe(1);
    expect(moved('tripline_hits_stored_total', { rule_id: 'Test.Metrics.GetObject' })).toBe(2);
    expect(moved('tripline_alerts_opened_total', { rule_id: SEED_RULE_ID })).toBe(1);
    // Its threshold is 2: the two hits stored open it.
    expect(moved('tripline_alerts_opened_total', { rule_id: 'Test.Metrics.GetObject' })).toBe(1);

    // The same batch again stores nothing and opens nothing.
    const again = await ingest(running.url, [
      at(seedExternalPrincipalAccess(), 'metrics-1'),
      at(seedSameAccountAccess(), 'metrics-2'),
    ]);
    expect(again).toMatchObject({ hits: 0, alerts: 0 });
    const last = await scrape(running.url);
    for (const ruleId of [SEED_RULE_ID, 'Test.Metrics.GetObject']) {
      expect(sample(last, 'tripline_hits_stored_total', { rule_id: ruleId })).toBe(
        sample(after, 'tripline_hits_stored_total', { rule_id: ruleId }),
      );
      expect(sample(last, 'tripline_alerts_opened_total', { rule_id: ruleId })).toBe(
        sample(after, 'tripline_alerts_opened_total', { rule_id: ruleId }),
      );
    }
  });

  it('counts the events on which a rule failed, per rule', async () => {
    // Compiled rules do not throw on any event; inject a fault, as test/ingest.e2e-spec.ts does.
    const { ActiveRuleSet } = await import('../src/rules/active-rule-set.service.js');
    const { RuleSet } = await import('../src/engine/rule-set.js');
    const active = running.app.get(ActiveRuleSet);
    const real = active.snapshot();
    const seed = real.versions.get(SEED_RULE_ID);
    if (!seed) throw new Error('seed rule not active');
    const broken = {
      ...seed.compiled,
      detect(event: unknown) {
        if ((event as { explode?: boolean }).explode) throw new Error('boom');
        return seed.compiled.detect(event);
      },
    };
    const original = active.snapshot.bind(active);
    active.snapshot = () => ({
      ruleSet: RuleSet.fromCompiled([broken]),
      versions: real.versions,
      generation: real.generation,
      library: real.library,
    });
    const before = await scrape(running.url);
    try {
      // Both faulty events are VPC endpoint events, which the rule's index lets through to it.
      await ingest(running.url, [
        { ...seedSameAccountAccess(), explode: true },
        seedSameAccountAccess(),
        { ...seedExternalPrincipalAccess(), explode: true },
      ]);
    } finally {
      active.snapshot = original;
    }
    const after = await scrape(running.url);
    const labels = { rule_id: SEED_RULE_ID };
    expect(
      sample(after, 'tripline_rule_errors_total', labels) -
        sample(before, 'tripline_rule_errors_total', labels),
    ).toBe(2);
  });
});
