// The query API over real HTTP: every filter returns exactly the matching hits, pages stay exact while
// hits keep arriving, alerts keep their triage history, and coverage names the techniques.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, removeDatabase, startApp, type RunningApp } from './support/app.js';

const LOGIN_RULE = `AnalysisType: rule
RuleID: Q.Login
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "ConsoleLogin"
GroupBy: [{ KeyPath: userIdentity.userName }]
AlertContext:
  - { KeyName: user, KeyValue: { KeyPath: userIdentity.userName } }
  - { KeyName: ip, KeyValue: { Key: sourceIPAddress } }
DynamicSeverities:
  - ChangeTo: High
    Conditions: [{ KeyPath: userIdentity.type, Condition: Equals, Value: Root }]
Tests:
  - Name: login
    ExpectedResult: true
    Log: { eventName: ConsoleLogin }
`;

const AUDIT_RULE = `AnalysisType: rule
RuleID: Q.Audit
LogTypes: [Custom.Audit]
Severity: Medium
Condition: action eq "delete"
AlertContext:
  - { KeyName: user, KeyValue: { Key: user } }
Tests:
  - Name: delete
    ExpectedResult: true
    Log: { action: delete }
`;

interface Sent {
  rule: 'Q.Login' | 'Q.Audit';
  user: string;
  ip?: string;
  root?: boolean;
  minute: number;
}

const BASE = Date.UTC(2025, 2, 10, 8, 0);
const at = (minute: number) => new Date(BASE + minute * 60_000).toISOString();

function toEvent(sent: Sent, index: number): Record<string, unknown> {
  if (sent.rule === 'Q.Audit')
    return { p_log_type: 'Custom.Audit', action: 'delete', user: sent.user, time: at(sent.minute) };
  return {
    eventVersion: '1.08',
    eventID: `q-${index}-${sent.minute}-${sent.user}`,
    eventTime: at(sent.minute),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    sourceIPAddress: sent.ip,
    userIdentity: sent.root
      ? { type: 'Root', userName: sent.user, accountId: '123456789012' }
      : { type: 'IAMUser', userName: sent.user, accountId: '123456789012' },
  };
}

const SENT: Sent[] = [
  ...Array.from({ length: 12 }, (_, i) => ({
    rule: 'Q.Login' as const,
    user: 'ann',
    ip: '198.51.100.1',
    minute: i * 90,
  })),
  ...Array.from({ length: 6 }, (_, i) => ({
    rule: 'Q.Login' as const,
    user: 'bob',
    ip: '198.51.100.2',
    minute: 30 + i * 200,
  })),
  ...Array.from({ length: 3 }, (_, i) => ({
    rule: 'Q.Login' as const,
    user: 'root',
    ip: '203.0.113.9',
    root: true,
    minute: 45 + i * 300,
  })),
  ...Array.from({ length: 5 }, (_, i) => ({
    rule: 'Q.Audit' as const,
    user: i % 2 === 0 ? 'ann' : 'cy',
    minute: 10 + i * 120,
  })),
];

describe('query API', () => {
  let running: RunningApp;
  let base: string;
  let all: any[];

  const ids = (items: { id: number }[]) => items.map((item) => item.id);
  async function everything(query: string): Promise<any[]> {
    const found: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await http(
        base,
        'GET',
        `/v1/hits?${query}${query ? '&' : ''}limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status, query).toBe(200);
      found.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return found;
  }
  const expectIds = (query: string, keep: (hit: any) => boolean) =>
    everything(query).then((found) => expect(ids(found), query).toEqual(ids(all.filter(keep))));

  beforeAll(async () => {
    running = await startApp();
    base = running.url;
    expect((await http(base, 'POST', '/v1/rules', { body: LOGIN_RULE })).status).toBe(201);
    expect((await http(base, 'POST', '/v1/rules', { body: AUDIT_RULE })).status).toBe(201);
    const answer = await http(base, 'POST', '/v1/events', { body: SENT.map(toEvent) });
    expect(answer.body.hits).toBe(SENT.length);
    all = await everything('');
    expect(all).toHaveLength(SENT.length);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('lists newest event first, with the documented shape', () => {
    const times = all.map((hit) => hit.eventTime);
    expect([...times].sort().reverse()).toEqual(times);
    expect(Object.keys(all[0]).sort()).toEqual(
      [
        'alertId',
        'dedupKey',
        'event',
        'eventTime',
        'id',
        'logType',
        'outputFields',
        'receivedAt',
        'ruleId',
        'ruleVersion',
        'severity',
        'title',
      ].sort(),
    );
  });

  it('gives each hit of a page as GET /v1/hits/:id gives it, in JSON as JSON.stringify writes it', async () => {
    const page = await http(base, 'GET', '/v1/hits?limit=5');
    expect(page.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // The page is written from the stored JSON text (HitsService.listJson): the same text JSON.stringify
    // gives for the parsed page, key order included.
    expect(page.text).toBe(JSON.stringify(page.body));
    expect(page.body.items).toHaveLength(5);
    for (const item of page.body.items) {
      const { rule, ...detail } = (await http(base, 'GET', `/v1/hits/${item.id}`)).body;
      expect(rule).toBeDefined();
      expect(JSON.stringify(item)).toBe(JSON.stringify(detail));
    }
    const last = await http(base, 'GET', `/v1/hits?limit=1000&cursor=${page.body.nextCursor}`);
    expect(last.text).toBe(JSON.stringify(last.body));
    expect(last.body.nextCursor).toBeNull();
  });

  it('returns exactly the hits each filter matches', async () => {
    await expectIds('ruleId=Q.Login', (hit) => hit.ruleId === 'Q.Login');
    await expectIds('severity=High', (hit) => hit.severity === 'High');
    await expectIds('severity=high,Medium', (hit) => hit.severity === 'High' || hit.severity === 'Medium');
    await expectIds(
      'severity=Low&severity=Medium',
      (hit) => hit.severity === 'Low' || hit.severity === 'Medium',
    );
    await expectIds('logType=Custom.Audit', (hit) => hit.logType === 'Custom.Audit');
    const since = at(300);
    const until = at(900);
    await expectIds(
      `since=${since}&until=${until}`,
      (hit) => hit.eventTime >= since && hit.eventTime < until,
    );
    await expectIds('field.user=ann', (hit) => hit.outputFields.user === 'ann');
    await expectIds('field.p_any_ip_addresses=203.0.113.9', (hit) =>
      hit.event.p_any_ip_addresses?.includes('203.0.113.9'),
    );
    await expectIds(
      'field.user=ann&field.ip=198.51.100.1',
      (hit) => hit.outputFields.user === 'ann' && hit.outputFields.ip === '198.51.100.1',
    );
    await expectIds(
      `ruleId=Q.Login&field.user=bob&since=${since}`,
      (hit) => hit.ruleId === 'Q.Login' && hit.outputFields.user === 'bob' && hit.eventTime >= since,
    );
    await expectIds('field.user=nobody', () => false);
    const alertId = all.find((hit) => hit.outputFields.user === 'bob' && hit.ruleId === 'Q.Login').alertId;
    await expectIds(`alertId=${alertId}`, (hit) => hit.alertId === alertId);
  });

  it('gives one hit with its event and the rule version that made it, even after the rule changed', async () => {
    const [first] = all.filter((hit) => hit.ruleId === 'Q.Login');
    await http(base, 'PUT', '/v1/rules/Q.Login', {
      body: LOGIN_RULE.replace('Severity: Low', 'Severity: Medium'),
    });
    const detail = await http(base, 'GET', `/v1/hits/${first.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: first.id,
      ruleVersion: 1,
      rule: { ruleId: 'Q.Login', version: 1, source: LOGIN_RULE },
    });
    expect(detail.body.event.p_udm).toBeDefined();
    expect((await http(base, 'GET', '/v1/hits/999999')).status).toBe(404);
    expect((await http(base, 'GET', '/v1/hits/abc')).body.errors[0].parameter).toBe('id');
  });

  it('pages through a rule with limit 7, each hit exactly once, while another client keeps ingesting', async () => {
    const before = ids(await everything('ruleId=Q.Login'));
    // Another client's batch between every two pages, with event times both newer and older than the
    // page just read: interleaved on purpose, so that the test does not depend on how fast either runs.
    let round = 0;
    const ingest = async () => {
      round += 1;
      const events = [-5000 - round, 5000 + round].map((minute, i) =>
        toEvent({ rule: 'Q.Login', user: `late-${round}`, ip: '192.0.2.1', minute }, 1000 + round * 2 + i),
      );
      expect((await http(base, 'POST', '/v1/events', { body: events })).body.hits).toBe(2);
    };
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await http(
        base,
        'GET',
        `/v1/hits?ruleId=Q.Login&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...ids(page.body.items));
      cursor = page.body.nextCursor;
      pages += 1;
      await ingest();
    } while (cursor);
    expect(pages).toBeGreaterThan(3);
    expect(round).toBe(pages);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen.filter((candidate) => candidate === id)).toHaveLength(1);
  });

  it('treats SQL in field names and values as plain text', async () => {
    const injected = await http(
      base,
      'GET',
      `/v1/hits?${encodeURIComponent("field.user' OR 1=1--")}=x&${encodeURIComponent('field.user')}=${encodeURIComponent("ann' OR '1'='1")}`,
    );
    expect(injected.status).toBe(200);
    expect(injected.body.items).toEqual([]);
  });

  it('suggests the parameter an unknown one was near to', async () => {
    const cases: [string, string][] = [
      ['/v1/hits?rule=Q.Login', 'unknown parameter rule; did you mean ruleId?'],
      ['/v1/alerts?severty=High', 'unknown parameter severty; did you mean severity?'],
      ['/v1/rules?severty=High', 'unknown parameter severty; did you mean severity?'],
      ['/v1/hits?banana=1', 'unknown parameter banana'],
    ];
    for (const [path, message] of cases) {
      const answer = await http(base, 'GET', path);
      expect(answer.status, path).toBe(400);
      expect(
        answer.body.errors.map((error: { message: string }) => error.message),
        path,
      ).toEqual([message]);
    }
  });

  it('answers bad parameters with a 400 that names the parameter', async () => {
    const cases: [string, string][] = [
      ['/v1/hits?rule=Q.Login', 'rule'],
      ['/v1/hits?since=yesterday', 'since'],
      ['/v1/hits?since=2023-02-30T00:00:00Z', 'since'],
      ['/v1/hits?until=2025-13-45T00:00:00Z', 'until'],
      ['/v1/hits?since=2025-03-10T10:00:00Z&until=2025-03-10T09:00:00Z', 'until'],
      ['/v1/hits?cursor=not-a-cursor', 'cursor'],
      ['/v1/hits?limit=0', 'limit'],
      ['/v1/hits?limit=1001', 'limit'],
      ['/v1/hits?limit=ten', 'limit'],
      ['/v1/hits?severity=Urgent', 'severity'],
      ['/v1/hits?alertId=-1', 'alertId'],
      ['/v1/hits?field.=x', 'field.'],
      ['/v1/alerts?status=snoozed', 'status'],
      ['/v1/alerts?limit=5000', 'limit'],
      ['/v1/alerts?frobnicate=1', 'frobnicate'],
      ['/v1/alerts/1?hitsLimit=0', 'hitsLimit'],
      ['/v1/stats?interval=minute', 'interval'],
      ['/v1/coverage?format=xml', 'format'],
    ];
    for (const [path, parameter] of cases) {
      const answer = await http(base, 'GET', path);
      expect(answer.status, path).toBe(400);
      expect(answer.headers.get('content-type'), path).toContain('application/problem+json');
      expect(
        answer.body.errors.map((error: { parameter: string }) => error.parameter).join(' '),
        path,
      ).toContain(parameter);
    }
  });
});

describe('alerts API', () => {
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    base = running.url;
    const thresholdRule = AUDIT_RULE.replace('RuleID: Q.Audit', 'RuleID: Q.Threshold').replace(
      'Severity: Medium',
      'Severity: Medium\nThreshold: 3\nGroupBy: [{ Key: user }]',
    );
    expect((await http(base, 'POST', '/v1/rules', { body: LOGIN_RULE })).status).toBe(201);
    expect((await http(base, 'POST', '/v1/rules', { body: thresholdRule })).status).toBe(201);
    const events = [
      ...['ann', 'ann', 'bob'].map((user, i) =>
        toEvent({ rule: 'Q.Login', user, ip: '198.51.100.1', minute: i }, i),
      ),
      toEvent({ rule: 'Q.Login', user: 'root', ip: '203.0.113.9', root: true, minute: 5 }, 9),
      ...[1, 2].map((minute) => ({
        p_log_type: 'Custom.Audit',
        action: 'delete',
        user: 'cy',
        time: at(minute),
      })),
    ];
    expect((await http(base, 'POST', '/v1/events', { body: events })).body.hits).toBe(6);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('lists open alerts by default, pending ones on request, with filters', async () => {
    const open = await http(base, 'GET', '/v1/alerts');
    expect(open.body.items.map((alert: any) => [alert.dedupKey, alert.status, alert.hitCount])).toEqual([
      ['root', 'open', 1],
      ['bob', 'open', 1],
      ['ann', 'open', 2],
    ]);
    expect(open.body.items[0].severity).toBe('High');
    const pending = await http(base, 'GET', '/v1/alerts?status=pending');
    expect(pending.body.items).toMatchObject([
      { ruleId: 'Q.Threshold', dedupKey: 'cy', hitCount: 2, threshold: 3 },
    ]);
    const high = await http(base, 'GET', '/v1/alerts?severity=High');
    expect(high.body.items.map((alert: any) => alert.dedupKey)).toEqual(['root']);
    const paged = await http(base, 'GET', '/v1/alerts?limit=2');
    expect(paged.body.items).toHaveLength(2);
    const rest = await http(base, 'GET', `/v1/alerts?limit=2&cursor=${paged.body.nextCursor}`);
    expect(rest.body.items.map((alert: any) => alert.dedupKey)).toEqual(['ann']);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('shows an alert with its hits, and keeps every status change with its time and comment', async () => {
    const [ann] = (await http(base, 'GET', '/v1/alerts?ruleId=Q.Login')).body.items.filter(
      (alert: any) => alert.dedupKey === 'ann',
    );
    const acknowledged = await http(base, 'PATCH', `/v1/alerts/${ann.id}`, {
      body: { status: 'acknowledged', comment: 'looking into it' },
    });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.status).toBe('acknowledged');
    await http(base, 'PATCH', `/v1/alerts/${ann.id}`, {
      body: { status: 'closed', comment: 'expected: new laptop' },
    });
    const detail = await http(base, 'GET', `/v1/alerts/${ann.id}?hitsLimit=1`);
    expect(detail.body).toMatchObject({ id: ann.id, status: 'closed', hitCount: 2 });
    expect(detail.body.history.map((change: any) => [change.from, change.to, change.comment])).toEqual([
      ['open', 'acknowledged', 'looking into it'],
      ['acknowledged', 'closed', 'expected: new laptop'],
    ]);
    expect(detail.body.history.every((change: any) => !Number.isNaN(Date.parse(change.changedAt)))).toBe(
      true,
    );
    expect(detail.body.hits.items).toHaveLength(1);
    const more = await http(
      base,
      'GET',
      `/v1/alerts/${ann.id}?hitsLimit=1&hitsCursor=${detail.body.hits.nextCursor}`,
    );
    expect(more.body.hits.items).toHaveLength(1);
    expect(more.body.hits.nextCursor).toBeNull();
    expect(
      (await http(base, 'GET', '/v1/alerts?status=closed')).body.items.map((alert: any) => alert.id),
    ).toEqual([ann.id]);
  });

  it('refuses bad triage', async () => {
    const [pending] = (await http(base, 'GET', '/v1/alerts?status=pending')).body.items;
    expect(
      (await http(base, 'PATCH', `/v1/alerts/${pending.id}`, { body: { status: 'closed' } })).status,
    ).toBe(409);
    expect((await http(base, 'PATCH', '/v1/alerts/424242', { body: { status: 'closed' } })).status).toBe(404);
    const bad = await http(base, 'PATCH', `/v1/alerts/${pending.id}`, { body: { status: 'snoozed' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].parameter).toBe('status');
  });

  it('counts hits and alerts per rule and per hour', async () => {
    const stats = await http(base, 'GET', `/v1/stats?since=${at(-60)}&until=${at(120)}&interval=hour`);
    expect(stats.status).toBe(200);
    expect(stats.body.buckets).toEqual([
      { start: '2025-03-10T08:00:00.000Z', ruleId: 'Q.Login', hits: 4, alerts: 3 },
      { start: '2025-03-10T08:00:00.000Z', ruleId: 'Q.Threshold', hits: 2, alerts: 0 },
    ]);
    expect(stats.body.totals).toEqual([
      { ruleId: 'Q.Login', hits: 4, alerts: 3 },
      { ruleId: 'Q.Threshold', hits: 2, alerts: 0 },
    ]);
    expect(stats.body.hint).toBeUndefined();
  });

  it('says where the newest hit is when a range of event time holds none (history sent later)', async () => {
    // The default range is the last 7 days of event time; these hits happened in 2025.
    const stats = await http(base, 'GET', '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.buckets).toEqual([]);
    expect(stats.body.hint).toMatch(
      /^no hit in this range of event time; the newest hit's event time is 2025-/,
    );
    expect(stats.body.hint).toContain('set since and until around it');
  });
});

describe('coverage', () => {
  it('lists the built-in pack under its tactics, and as a Navigator layer', async () => {
    const running = await startApp();
    try {
      const coverage = await http(running.url, 'GET', '/v1/coverage');
      expect(coverage.status).toBe(200);
      const byTactic = Object.fromEntries(
        coverage.body.tactics.map((tactic: any) => [
          tactic.id,
          tactic.techniques.map((technique: any) => technique.id),
        ]),
      );
      expect(byTactic).toMatchObject({ TA0005: ['T1599'], TA0007: ['T1526'], TA0010: ['T1048'] });
      expect(coverage.body.tactics.find((tactic: any) => tactic.id === 'TA0010').techniques[0]).toMatchObject(
        {
          rules: ['AWS.CloudTrail.VPCE.ExternalPrincipal'],
          hits: 0,
        },
      );
      const layer = await http(running.url, 'GET', '/v1/coverage?format=navigator');
      expect(layer.body).toMatchObject({ domain: 'enterprise-attack', versions: { layer: '4.5' } });
      expect(
        layer.body.techniques.map((technique: any) => [technique.techniqueID, technique.tactic]),
      ).toEqual([
        ['T1599', 'defense-evasion'],
        ['T1526', 'discovery'],
        ['T1048', 'exfiltration'],
      ]);
    } finally {
      await running.close();
      await removeDatabase(running);
    }
  });
});
