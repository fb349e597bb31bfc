// Large batches are decoded and evaluated on an evaluation thread (src/ingest/evaluation-pool.ts). The
// same bodies sent to a service that evaluates everything in place and to one that sends every batch to
// its thread must give the same answers, the same refusals and the same stored hits; the thread follows
// rule changes; and a thread that dies fails only the batches it held, with a 503 that stores nothing,
// and is replaced.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluationPool } from '../src/ingest/evaluation-pool.js';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { bearer, http, removeDatabase, rows, startApp, type RunningApp } from './support/app.js';

const MAX_EVENTS = '40';

async function post(running: RunningApp, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${running.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(), ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** An answer without what differs between two services by design: batch ids and request ids. */
function comparable(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'batchId' && key !== 'requestId'));
}

/** A stored hit without the fields each receipt of an event makes anew (its parse time and row id). */
function withoutReceiptFields(hit: { event: string }): Record<string, unknown> {
  const {
    p_parse_time: parseTime,
    p_row_id: rowId,
    ...event
  } = JSON.parse(hit.event) as Record<string, unknown>;
  expect(typeof parseTime).toBe('string');
  expect(typeof rowId).toBe('string');
  return { ...hit, event };
}

/** Seed events with distinct event ids, times and addresses, so that each is a hit of its own. */
function seedBatch(size: number, offset: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, index) => {
    const n = offset + index;
    const base =
      n % 3 === 0 ? seedExternalPrincipalAccess() : n % 3 === 1 ? seedSameAccountAccess() : seedNonVpcEvent();
    return {
      ...base,
      eventID: `thread-test-${n}`,
      eventTime: `2024-05-0${1 + (n % 9)}T10:${String(n % 60).padStart(2, '0')}:00Z`,
      sourceIPAddress: `198.51.100.${n % 250}`,
    };
  });
}

const BODIES: { name: string; body: () => string | Buffer; headers?: Record<string, string> }[] = [
  { name: 'a JSON array of seed events', body: () => JSON.stringify(seedBatch(30, 0)) },
  {
    name: 'NDJSON with a line that is not JSON, an event without a log type and a time out of range',
    body: () =>
      [
        ...seedBatch(6, 100).map((event) => JSON.stringify(event)),
        '{"eventName": nope}',
        JSON.stringify({ hello: 'world' }),
        JSON.stringify({
          ...seedExternalPrincipalAccess(),
          eventID: 'too-late',
          eventTime: '2300-01-01T00:00:00Z',
        }),
      ].join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  },
  {
    name: 'a gzipped CloudTrail Records file',
    body: () => gzipSync(JSON.stringify({ Records: seedBatch(12, 200) })),
    headers: { 'content-encoding': 'gzip' },
  },
  {
    name: 'more events than a batch may hold',
    body: () => JSON.stringify(seedBatch(Number(MAX_EVENTS) + 1, 300)),
  },
  { name: 'no events at all', body: () => '[]' },
  { name: 'no event that can be accepted', body: () => '[1, "two", null]' },
];

describe('evaluation threads', () => {
  let inPlace: RunningApp;
  let threaded: RunningApp;
  let pool: EvaluationPool;

  beforeAll(async () => {
    inPlace = await startApp({ env: { EVALUATION_THREADS: '0', INGEST_MAX_EVENTS: MAX_EVENTS } });
    // Every batch that declares its length goes to the one thread, however small.
    threaded = await startApp({
      env: { EVALUATION_THREADS: '1', EVALUATION_THREAD_MIN_BYTES: '0', INGEST_MAX_EVENTS: MAX_EVENTS },
    });
    pool = threaded.app.get(EvaluationPool);
    // The threads start with the first large batch, and batches are evaluated in place until one holds
    // the rules: started here, so that every batch below goes to one.
    expect(pool.threadIds()).toEqual([]);
    await pool.ready();
  });

  afterAll(async () => {
    for (const running of [inPlace, threaded]) {
      await running.close();
      await removeDatabase(running);
    }
  });

  it('answer every body as evaluating in place does, and store the same hits and alerts', async () => {
    const before = pool.batchesOnThreads;
    for (const { name, body, headers } of BODIES) {
      const [here, there] = [await post(inPlace, body(), headers), await post(threaded, body(), headers)];
      expect({ name, status: there.status }).toEqual({ name, status: here.status });
      expect(comparable(there.body)).toEqual(comparable(here.body));
    }
    expect(pool.batchesOnThreads - before).toBe(BODIES.length);
    expect(inPlace.app.get(EvaluationPool).batchesOnThreads).toBe(0);

    const hitsSql =
      'SELECT rule_id, rule_version, severity, title, dedup_key, event_id, event_time, output_fields, event FROM hits ORDER BY rule_id, event_id';
    const [hitsHere, hitsThere] = [
      (await rows(inPlace, hitsSql)).map(withoutReceiptFields),
      (await rows(threaded, hitsSql)).map(withoutReceiptFields),
    ];
    expect(hitsHere.length).toBeGreaterThan(10);
    expect(hitsThere).toEqual(hitsHere);
    const alertsSql =
      'SELECT rule_id, dedup_key, title, severity, hit_count FROM alerts ORDER BY rule_id, dedup_key';
    expect(await rows(threaded, alertsSql)).toEqual(await rows(inPlace, alertsSql));
  });

  it('evaluates with a rule uploaded, and without it once it is disabled', async () => {
    const rule = `AnalysisType: rule
RuleID: Thread.Test.Login
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "ThreadTestLogin"
Tests:
  - Name: matches
    ExpectedResult: true
    Log: { eventName: ThreadTestLogin }
`;
    const event = (id: string) => ({ ...seedNonVpcEvent(), eventName: 'ThreadTestLogin', eventID: id });
    expect((await http(threaded.url, 'POST', '/v1/rules', { body: rule })).status).toBe(201);
    const first = await post(threaded, JSON.stringify([event('login-1')]));
    expect(first.body).toMatchObject({ accepted: 1, hits: 1 });

    const disabled = await http(threaded.url, 'PATCH', '/v1/rules/Thread.Test.Login', {
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    const second = await post(threaded, JSON.stringify([event('login-2')]));
    expect(second.body).toMatchObject({ accepted: 1, hits: 0 });
  });

  it('fails the batch a dying thread held with a 503 that stored nothing, and replaces the thread', async () => {
    const [threadId] = pool.threadIds();
    expect(threadId).toBeDefined();
    const batchesBefore = await rows(threaded, 'SELECT COUNT(*) AS n FROM ingest_batches');
    const body = Buffer.from(JSON.stringify(seedBatch(20, 400)));
    // The body arrives in two parts; the thread dies in between.
    const answer = new Promise<{ status: number; retryAfter: string | undefined; body: { code?: string } }>(
      (resolve, reject) => {
        const request = httpRequest(
          `${threaded.url}/v1/events`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': body.length, ...bearer() },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                retryAfter: response.headers['retry-after'],
                body: JSON.parse(text) as { code?: string },
              }),
            );
          },
        );
        request.on('error', reject);
        request.write(body.subarray(0, 100), () => {
          void waitForBatchOnThread(pool).then(async () => {
            await pool.crashThread(threadId as number);
            request.end(body.subarray(100));
          }, reject);
        });
      },
    );
    const failed = await answer;
    expect(failed).toMatchObject({ status: 503, retryAfter: '1', body: { code: 'evaluation_unavailable' } });
    expect(await rows(threaded, 'SELECT COUNT(*) AS n FROM ingest_batches')).toEqual(batchesBefore);

    // Another thread took its place, with the rules: the same batch sent again is stored whole.
    expect(pool.threadIds()).toHaveLength(1);
    expect(pool.threadIds()).not.toContain(threadId);
    const again = await post(threaded, body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ received: 20, accepted: 20 });
    expect(again.body.hits).toBeGreaterThan(0);
  });
});

/** Resolves once a thread holds a batch (the request's own, whose body has not all arrived). */
async function waitForBatchOnThread(pool: EvaluationPool): Promise<void> {
  while (pool.batchesInFlight === 0) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
