// POST /v1/events over real HTTP into a real SQLite file.
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED_OUTPUT_FIELDS,
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { bearer, http, removeDatabase, rows, startApp, type RunningApp } from './support/app.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

async function post(base: string, body: string | Buffer, headers: Record<string, string> = {}, query = '') {
  const response = await fetch(`${base}/v1/events${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(), ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

describe('ingest: the seed events', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('give one hit with exactly the seed output fields, and one alert', async () => {
    const events = [seedExternalPrincipalAccess(), seedSameAccountAccess(), seedNonVpcEvent()];
    const answer = await post(running.url, JSON.stringify(events));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      received: 3,
      accepted: 3,
      rejected: [],
      rejectedCount: 0,
      hits: 1,
      duplicateHits: 0,
      alerts: 1,
    });

    const hits = await rows(running, 'SELECT * FROM hits');
    expect(hits).toHaveLength(1);
    const hit = hits[0];
    const outputFields = JSON.parse(hit.output_fields);
    expect(Object.keys(outputFields)).toEqual(SEED_OUTPUT_FIELDS);
    const event = seedExternalPrincipalAccess();
    expect(outputFields).toEqual({
      eventName: event.eventName,
      eventSource: event.eventSource,
      awsRegion: event.awsRegion,
      recipientAccountId: event.recipientAccountId,
      sourceIPAddress: event.sourceIPAddress,
      userAgent: null,
      userIdentity: event.userIdentity,
      actor_user: 'UnknownAWSAccount',
      accountId: '111111111111',
    });
    expect(hit).toMatchObject({
      rule_id: SEED_RULE_ID,
      rule_version: 1,
      severity: 'Medium',
      title:
        'External Principal [UnknownAWSAccount] from account [111111111111] accessing resources in account [222222222222]',
      log_type: 'AWS.CloudTrail',
      event_time: '2023-03-01 00:00:00.000',
    });
    const stored = JSON.parse(hit.event);
    expect(stored).toMatchObject({
      ...event,
      p_log_type: 'AWS.CloudTrail',
      p_udm: { actor_user: 'UnknownAWSAccount' },
    });

    const alerts = await rows(running, 'SELECT * FROM alerts');
    expect(alerts).toMatchObject([
      { rule_id: SEED_RULE_ID, status: 'open', hit_count: 1, severity: 'Medium', title: hit.title },
    ]);
    expect(hit.alert_id).toBe(alerts[0].id);

    const fields = await rows(
      running,
      `SELECT name, value FROM hit_fields WHERE hit_id = ? ORDER BY name, value`,
      [hit.id],
    );
    expect(fields).toContainEqual({ name: 'accountId', value: '111111111111' });
    expect(fields).toContainEqual({ name: 'p_any_aws_account_ids', value: '222222222222' });
    expect(fields.some((field: { name: string }) => field.name === 'userAgent')).toBe(false);
  });
});

const GROUPING_RULE = `AnalysisType: rule
RuleID: Test.Grouping
LogTypes: [Custom.Audit]
Severity: Low
Condition: action eq "login_failed"
GroupBy:
  - Key: user
DedupPeriodMinutes: 10
Threshold: 3
AlertTitle: "Failed logins for {user}"
DynamicSeverities:
  - ChangeTo: High
    Conditions:
      - { Key: attempts, Condition: IsGreaterThan, Value: 5 }
Tests:
  - Name: failed
    ExpectedResult: true
    Log: { action: login_failed, user: ann }
`;

const NO_ALERT_RULE = `AnalysisType: rule
RuleID: Test.NoAlert
LogTypes: [Custom.Audit]
Severity: Info
CreateAlert: false
Condition: action eq "login_ok"
Tests:
  - Name: ok
    ExpectedResult: true
    Log: { action: login_ok }
`;

function audit(user: string, minute: number, extra: Record<string, unknown> = {}) {
  return {
    p_log_type: 'Custom.Audit',
    action: 'login_failed',
    user,
    time: new Date(Date.UTC(2025, 5, 1, 12, minute)).toISOString(),
    ...extra,
  };
}

describe('ingest: alerts by dedup key, period and threshold', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    expect((await http(running.url, 'POST', '/v1/rules', { body: GROUPING_RULE })).status).toBe(201);
    expect((await http(running.url, 'POST', '/v1/rules', { body: NO_ALERT_RULE })).status).toBe(201);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  const alerts = () =>
    rows(
      running,
      `SELECT dedup_key, status, hit_count, severity, first_event_time, last_event_time, window_end FROM alerts WHERE rule_id = 'Test.Grouping' ORDER BY dedup_key, first_event_time`,
    );

  it('keeps an alert pending until its threshold, then opens it; later hits outside the period start a new one', async () => {
    const first = await post(running.url, JSON.stringify([audit('ann', 0), audit('ann', 5)]));
    expect(first.body).toMatchObject({ hits: 2, alerts: 0 });
    expect(await alerts()).toMatchObject([{ dedup_key: 'ann', status: 'pending', hit_count: 2 }]);

    // 12:09 is inside ann's window (12:00 + 10 min): the third hit opens the alert. 12:11 is outside.
    const second = await post(
      running.url,
      JSON.stringify([audit('ann', 9), audit('ann', 11), audit('bob', 1)]),
    );
    expect(second.body).toMatchObject({ hits: 3, alerts: 1 });
    expect(await alerts()).toMatchObject([
      {
        dedup_key: 'ann',
        status: 'open',
        hit_count: 3,
        first_event_time: '2025-06-01 12:00:00.000',
        last_event_time: '2025-06-01 12:09:00.000',
        window_end: '2025-06-01 12:10:00.000',
      },
      { dedup_key: 'ann', status: 'pending', hit_count: 1, first_event_time: '2025-06-01 12:11:00.000' },
      { dedup_key: 'bob', status: 'pending', hit_count: 1 },
    ]);
  });

  it('groups a late event by its own event time, and keeps the highest severity', async () => {
    const late = await post(running.url, JSON.stringify([audit('ann', 2, { attempts: 9 })]));
    expect(late.body).toMatchObject({ hits: 1, alerts: 0, alertsUpdated: 1 });
    const [firstAnn] = await alerts();
    expect(firstAnn).toMatchObject({
      status: 'open',
      hit_count: 4,
      severity: 'High',
      last_event_time: '2025-06-01 12:09:00.000',
    });
  });

  it('lets a late event earlier than an alert’s first one join it, and reach its threshold', async () => {
    const first = await post(running.url, JSON.stringify([audit('dee', 35), audit('dee', 38)]));
    expect(first.body).toMatchObject({ hits: 2, alerts: 0 });
    const late = await post(running.url, JSON.stringify([audit('dee', 31)]));
    expect(late.body).toMatchObject({ hits: 1, alerts: 1 });
    const dee = (await alerts()).filter((alert: { dedup_key: string }) => alert.dedup_key === 'dee');
    expect(dee).toMatchObject([
      {
        status: 'open',
        hit_count: 3,
        first_event_time: '2025-06-01 12:31:00.000',
        last_event_time: '2025-06-01 12:38:00.000',
      },
    ]);
  });

  it('orders a batch by event time before grouping, whatever order it came in', async () => {
    const answer = await post(
      running.url,
      JSON.stringify([audit('cy', 30), audit('cy', 22), audit('cy', 21), audit('cy', 45)]),
    );
    expect(answer.body).toMatchObject({ hits: 4, alerts: 1 });
    const cy = (await alerts()).filter((alert: { dedup_key: string }) => alert.dedup_key === 'cy');
    expect(cy).toMatchObject([
      {
        status: 'open',
        hit_count: 3,
        first_event_time: '2025-06-01 12:21:00.000',
        last_event_time: '2025-06-01 12:30:00.000',
      },
      { status: 'pending', hit_count: 1, first_event_time: '2025-06-01 12:45:00.000' },
    ]);
  });

  it('writes a batch that extends several alerts and starts several new ones, each hit on its own alert', async () => {
    // Minute 100 is 13:40. Alerts are written a batch at a time (one statement for the new ones and one
    // for the changed ones): each must get its own hits, on SQLite as on PostgreSQL.
    const first = await post(
      running.url,
      JSON.stringify([audit('eve', 100), audit('eve', 101), audit('fay', 100), audit('gus', 100)]),
    );
    expect(first.body).toMatchObject({ hits: 4, alerts: 0 });
    const second = await post(
      running.url,
      JSON.stringify([
        audit('hal', 108),
        audit('gus', 115),
        audit('eve', 105),
        audit('ida', 120),
        audit('hal', 104),
        audit('fay', 103, { attempts: 9 }),
        audit('gus', 99),
        audit('hal', 106),
      ]),
    );
    expect(second.body).toMatchObject({ hits: 8, alerts: 2 });
    const users = ['eve', 'fay', 'gus', 'hal', 'ida'];
    const written = (await alerts()).filter((alert: { dedup_key: string }) =>
      users.includes(alert.dedup_key),
    );
    expect(written).toEqual([
      {
        dedup_key: 'eve',
        status: 'open',
        hit_count: 3,
        severity: 'Low',
        first_event_time: '2025-06-01 13:40:00.000',
        last_event_time: '2025-06-01 13:45:00.000',
        window_end: '2025-06-01 13:50:00.000',
      },
      {
        dedup_key: 'fay',
        status: 'pending',
        hit_count: 2,
        severity: 'High',
        first_event_time: '2025-06-01 13:40:00.000',
        last_event_time: '2025-06-01 13:43:00.000',
        window_end: '2025-06-01 13:50:00.000',
      },
      {
        dedup_key: 'gus',
        status: 'pending',
        hit_count: 2,
        severity: 'Low',
        first_event_time: '2025-06-01 13:39:00.000',
        last_event_time: '2025-06-01 13:40:00.000',
        window_end: '2025-06-01 13:50:00.000',
      },
      {
        dedup_key: 'gus',
        status: 'pending',
        hit_count: 1,
        severity: 'Low',
        first_event_time: '2025-06-01 13:55:00.000',
        last_event_time: '2025-06-01 13:55:00.000',
        window_end: '2025-06-01 14:05:00.000',
      },
      {
        dedup_key: 'hal',
        status: 'open',
        hit_count: 3,
        severity: 'Low',
        first_event_time: '2025-06-01 13:44:00.000',
        last_event_time: '2025-06-01 13:48:00.000',
        window_end: '2025-06-01 13:54:00.000',
      },
      {
        dedup_key: 'ida',
        status: 'pending',
        hit_count: 1,
        severity: 'Low',
        first_event_time: '2025-06-01 14:00:00.000',
        last_event_time: '2025-06-01 14:00:00.000',
        window_end: '2025-06-01 14:10:00.000',
      },
    ]);
    // Every hit points at the alert of its own user whose events it is counted in.
    const hitsByAlert = await rows(
      running,
      `SELECT a.dedup_key, a.first_event_time, a.hit_count, CAST(COUNT(h.id) AS INTEGER) AS hits, MIN(h.event_time) AS earliest, MAX(h.event_time) AS latest FROM alerts a JOIN hits h ON h.alert_id = a.id AND h.dedup_key = a.dedup_key WHERE a.rule_id = 'Test.Grouping' AND a.dedup_key IN ('eve', 'fay', 'gus', 'hal', 'ida') GROUP BY a.id, a.dedup_key, a.first_event_time, a.hit_count ORDER BY a.dedup_key, a.first_event_time`,
    );
    expect(
      hitsByAlert.map((alert: { hits: number; hit_count: number }) => alert.hits === alert.hit_count),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      hitsByAlert.map((alert: { earliest: string; latest: string }) => [alert.earliest, alert.latest]),
    ).toEqual(
      written.map((alert: { first_event_time: string; last_event_time: string }) => [
        alert.first_event_time,
        alert.last_event_time,
      ]),
    );
  });

  it('stores hits without an alert for CreateAlert: false', async () => {
    const answer = await post(
      running.url,
      JSON.stringify([{ p_log_type: 'Custom.Audit', action: 'login_ok' }]),
    );
    expect(answer.body).toMatchObject({ hits: 1, alerts: 0 });
    const [hit] = await rows(running, `SELECT alert_id FROM hits WHERE rule_id = 'Test.NoAlert'`);
    expect(hit.alert_id).toBeNull();
  });
});

describe('ingest: idempotency, duplicates and bad input', () => {
  let running: RunningApp;
  const batch = () =>
    JSON.stringify(
      [seedExternalPrincipalAccess(), seedSameAccountAccess()].map((event, i) => ({
        ...event,
        eventID: `evt-${i}`,
      })),
    );

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('answers a retry with the same Idempotency-Key as the first time, storing nothing new', async () => {
    const first = await post(running.url, batch(), { 'idempotency-key': 'batch-42' });
    expect(first.body).toMatchObject({ hits: 1, alerts: 1 });
    const retry = await post(running.url, batch(), { 'idempotency-key': 'batch-42' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches')).toEqual([
      { n: 1 },
    ]);
    const reused = await post(running.url, JSON.stringify([seedNonVpcEvent()]), {
      'idempotency-key': 'batch-42',
    });
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('idempotency_key_reused');
    const bad = await post(running.url, batch(), { 'idempotency-key': 'has space' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].parameter).toBe('Idempotency-Key');
  });

  it('stores a hit for one rule and one CloudTrail eventID once, across batches and within one', async () => {
    const again = await post(running.url, batch());
    expect(again.body).toMatchObject({ hits: 0, duplicateHits: 1, alerts: 0 });
    const twice = JSON.stringify([
      { ...seedExternalPrincipalAccess(), eventID: 'evt-x' },
      { ...seedExternalPrincipalAccess(), eventID: 'evt-x' },
    ]);
    expect((await post(running.url, twice)).body).toMatchObject({ hits: 1, duplicateHits: 1 });
    expect(await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM hits')).toEqual([{ n: 2 }]);
  });

  it('reads gzip, deflate and brotli bodies, NDJSON and Records files', async () => {
    const events = [0, 1, 2].map((i) => ({ ...seedExternalPrincipalAccess(), eventID: `enc-${i}` }));
    const ndjson = events.map((event) => JSON.stringify(event)).join('\n');
    expect(
      (await post(running.url, gzipSync(JSON.stringify([events[0]])), { 'content-encoding': 'gzip' })).body
        .hits,
    ).toBe(1);
    expect(
      (
        await post(running.url, deflateSync(ndjson), {
          'content-encoding': 'deflate',
          'content-type': 'application/x-ndjson',
        })
      ).body.hits,
    ).toBe(2);
    const records = brotliCompressSync(JSON.stringify({ Records: events }));
    expect((await post(running.url, records, { 'content-encoding': 'br' })).body).toMatchObject({
      received: 3,
      hits: 0,
      duplicateHits: 3,
    });
  });

  it('rejects undecodable events and events without a log type one by one, with their index', async () => {
    const body = [
      JSON.stringify({ ...seedExternalPrincipalAccess(), eventID: 'mixed-1' }),
      '{"broken": ',
      '{"hello": "world"}',
      '[1, 2]',
      '42',
    ].join('\n');
    const answer = await post(running.url, body, { 'content-type': 'application/x-ndjson' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ received: 5, accepted: 1, rejectedCount: 4, hits: 1 });
    expect(answer.body.rejected).toEqual([
      { index: 1, error: expect.stringMatching(/^invalid JSON/) },
      { index: 2, error: expect.stringMatching(/^no log type/) },
      { index: 3, error: 'an event must be a JSON object' },
      { index: 4, error: 'an event must be a JSON object' },
    ]);
    const typed = await post(running.url, JSON.stringify([{ hello: 'world' }]), {}, '?logType=Custom.Thing');
    expect(typed.body).toMatchObject({ accepted: 1, hits: 0 });
  });

  it('warns of events no enabled rule reads, naming a near log type that rules do read', async () => {
    const event = {
      eventName: 'ListBuckets',
      eventSource: 's3.amazonaws.com',
      eventTime: '2025-02-01T00:00:00Z',
    };
    const typo = await http(running.url, 'POST', '/v1/events?logType=AWS.Cloudtrail', {
      body: [event, event],
    });
    expect(typo.status).toBe(200);
    expect(typo.body.warnings).toEqual([
      {
        code: 'no_rules_for_log_type',
        logType: 'AWS.Cloudtrail',
        events: 2,
        detail: 'no enabled rule reads log type AWS.Cloudtrail; did you mean AWS.CloudTrail?',
      },
    ]);
    const watched = await http(running.url, 'POST', '/v1/events?logType=AWS.CloudTrail', { body: [event] });
    expect(watched.body.warnings).toEqual([]);
  });

  it('rejects an event whose time cannot be a real one, and keeps the batch', async () => {
    const events = [
      { ...seedExternalPrincipalAccess(), eventID: 'time-ok' },
      { ...seedExternalPrincipalAccess(), eventID: 'time-far', eventTime: 500000000000000000000 },
      { ...seedExternalPrincipalAccess(), eventID: 'time-old', eventTime: '1601-01-01T00:00:00Z' },
    ];
    const answer = await post(running.url, JSON.stringify(events));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, hits: 1, rejectedCount: 2 });
    expect(answer.body.rejected.map((rejection: { index: number }) => rejection.index)).toEqual([1, 2]);
    expect((await http(running.url, 'GET', '/v1/hits')).status).toBe(200);
  });

  it('indexes only the indicators the normaliser gathers, a bounded number of each', async () => {
    const event = {
      ...seedExternalPrincipalAccess(),
      eventID: 'junk-1',
      p_any_junk: Array.from({ length: 5000 }, (_, i) => i),
      p_any_ip_addresses: ['1.1.1.1'],
    };
    const answer = await post(running.url, JSON.stringify([event]));
    expect(answer.body.hits).toBe(1);
    const [hit] = await rows(running, `SELECT id FROM hits WHERE event_id = 'junk-1'`);
    const names = await rows(
      running,
      `SELECT name, CAST(COUNT(*) AS INTEGER) AS n FROM hit_fields WHERE hit_id = ? GROUP BY name ORDER BY name`,
      [hit.id],
    );
    expect(names.some((row: { name: string }) => row.name === 'p_any_junk')).toBe(false);
    // The normaliser recomputes indicators from the event: a forged IP is not kept.
    expect(names.find((row: { name: string }) => row.name === 'p_any_ip_addresses')).toEqual({
      name: 'p_any_ip_addresses',
      n: 1,
    });
  });

  it('treats the same Idempotency-Key with another logType as another request', async () => {
    const body = JSON.stringify([{ hello: 'world', eventID: 'lt' }]);
    const first = await post(running.url, body, { 'idempotency-key': 'lt-key' }, '?logType=Custom.One');
    expect(first.status).toBe(200);
    const other = await post(running.url, body, { 'idempotency-key': 'lt-key' }, '?logType=Custom.Two');
    expect(other.status).toBe(409);
  });

  it('answers a body it cannot use with a clear 4xx and stores nothing', async () => {
    const before = await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches');
    const cases: [string, Buffer | string, Record<string, string>, string, number, string][] = [
      ['not JSON at all', 'hello', {}, '', 400, 'no_valid_events'],
      ['an empty body', '', {}, '', 400, 'no_events'],
      ['an empty array', '[]', {}, '', 400, 'no_events'],
      [
        'bad gzip',
        Buffer.from('not gzip'),
        { 'content-encoding': 'gzip' },
        '',
        400,
        'invalid_compressed_body',
      ],
      [
        'an unknown encoding',
        'x',
        { 'content-encoding': 'compress' },
        '',
        415,
        'unsupported_content_encoding',
      ],
      ['a bad logType', '[{}]', {}, '?logType=../etc', 400, 'invalid_parameters'],
      ['an unknown parameter', '[{}]', {}, '?frobnicate=1', 400, 'invalid_parameters'],
    ];
    for (const [name, body, headers, query, status, code] of cases) {
      const answer = await post(running.url, body, headers, query);
      expect(answer.status, name).toBe(status);
      expect(answer.body.code, name).toBe(code);
    }
    expect(await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches')).toEqual(before);
  });
});

describe('ingest: limits', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      env: { BODY_LIMIT_BYTES: '65536', INGEST_MAX_DECOMPRESSED_BYTES: '1048576', INGEST_MAX_EVENTS: '100' },
    });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = JSON.stringify([{ p_log_type: 'Custom.X', blob: 'x'.repeat(70_000) }]);
    const answer = await post(running.url, big);
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('body_too_large');
  });

  it('stops a gzip bomb at the decompressed limit with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(65536);
    const answer = await post(running.url, bomb, { 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('decompressed_too_large');
  });

  it('refuses more events than a batch may hold with 413', async () => {
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ p_log_type: 'Custom.X', i })));
    const answer = await post(running.url, many);
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('too_many_events');
    expect(await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches')).toEqual([
      { n: 0 },
    ]);
  });
});

describe('ingest: a rule that fails on an event', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    const rule = `AnalysisType: rule
RuleID: Test.Fragile
LogTypes: [Custom.Audit]
Severity: Low
Condition: action eq "delete"
Tests:
  - Name: delete
    ExpectedResult: true
    Log: { action: delete }
`;
    expect((await http(running.url, 'POST', '/v1/rules', { body: rule })).status).toBe(201);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('is counted on the rule and never fails the batch', async () => {
    // Compiled rules do not throw on any event; inject a fault in the detection to prove the batch survives.
    const { ActiveRuleSet } = await import('../src/rules/active-rule-set.service.js');
    const { RuleSet } = await import('../src/engine/rule-set.js');
    const active = running.app.get(ActiveRuleSet);
    const real = active.snapshot();
    const fragile = real.versions.get('Test.Fragile');
    if (!fragile) throw new Error('rule not active');
    const broken = {
      ...fragile.compiled,
      detect(event: unknown) {
        if ((event as { explode?: boolean }).explode) throw new Error('boom on this event');
        return fragile.compiled.detect(event);
      },
    };
    const original = active.snapshot.bind(active);
    active.snapshot = () => ({
      ruleSet: RuleSet.fromCompiled([broken]),
      versions: real.versions,
      generation: real.generation,
      library: real.library,
    });
    try {
      const events = [
        { p_log_type: 'Custom.Audit', action: 'delete', explode: true },
        { p_log_type: 'Custom.Audit', action: 'delete' },
        { p_log_type: 'Custom.Audit', action: 'delete', explode: true },
      ];
      const answer = await post(running.url, JSON.stringify(events));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ accepted: 3, hits: 1 });
    } finally {
      active.snapshot = original;
    }
    const [rule] = await rows(
      running,
      `SELECT error_count, last_error, last_error_at FROM rules WHERE rule_id = 'Test.Fragile'`,
    );
    expect(rule).toMatchObject({ error_count: 2, last_error: 'boom on this event' });
    expect(rule.last_error_at).toBeTruthy();
    const view = await http(running.url, 'GET', '/v1/rules/Test.Fragile');
    expect(view.body.errors).toMatchObject({ count: 2, last: 'boom on this event' });
  });
});
