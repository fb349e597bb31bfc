// Forwarders as they are: Splunk's own HEC client (splunk-logging) and the official Elasticsearch
// client's bulk helper send the seed events to a real app, and hand-made requests check HEC's and
// Elasticsearch's answers, errors included.
import { Client } from '@elastic/elasticsearch';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { http, removeDatabase, rows, startApp, type RunningApp } from './support/app.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';
const SOURCETYPES = 'aws:cloudtrail=AWS.CloudTrail,custom:app=Custom.App';

/** The part of splunk-logging's Logger these tests use (the package has no types). */
interface SplunkLogger {
  eventFormatter: (message: unknown, severity: string) => unknown;
  error: (error: Error, context: unknown) => void;
  send(
    context: { message: unknown; metadata?: Record<string, string> },
    callback: (error: Error | null, response: { statusCode: number }, body: unknown) => void,
  ): void;
}
const { Logger } = createRequire(import.meta.url)('splunk-logging') as {
  Logger: new (config: { token: string; url: string; maxRetries?: number }) => SplunkLogger;
};

function seedEvents() {
  return [seedExternalPrincipalAccess(), seedSameAccountAccess(), seedNonVpcEvent()];
}

async function createKey(base: string, scopes: string[]): Promise<string> {
  const created = await http(base, 'POST', '/v1/api-keys', { body: { name: scopes.join('+'), scopes } });
  expect(created.status, created.text).toBe(201);
  return created.body.key as string;
}

/** A request as a forwarder sends it: a raw body, the key in the Splunk scheme unless told otherwise. */
async function send(
  base: string,
  path: string,
  body: string,
  authorization: string | null,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

async function seedHits(base: string) {
  const hits = await http(base, 'GET', '/v1/hits');
  expect(hits.status).toBe(200);
  return hits.body.items as Array<{ ruleId: string; outputFields: Record<string, unknown> }>;
}

function expectTheSeedHit(hits: Array<{ ruleId: string; outputFields: Record<string, unknown> }>): void {
  expect(hits).toHaveLength(1);
  const event = seedExternalPrincipalAccess();
  expect(hits[0]).toMatchObject({
    ruleId: SEED_RULE_ID,
    outputFields: {
      eventName: event.eventName,
      eventSource: event.eventSource,
      awsRegion: event.awsRegion,
      recipientAccountId: '222222222222',
      sourceIPAddress: event.sourceIPAddress,
      userIdentity: event.userIdentity,
      actor_user: 'UnknownAWSAccount',
      accountId: '111111111111',
    },
  });
}

async function lastBatch(running: RunningApp) {
  const [batch] = await rows(
    running,
    'SELECT received, accepted FROM ingest_batches ORDER BY id DESC LIMIT 1',
  );
  return batch;
}

describe('Splunk HTTP Event Collector', () => {
  let running: RunningApp;
  let ingestKey: string;
  let readKey: string;

  beforeAll(async () => {
    running = await startApp({ env: { HEC_SOURCETYPES: SOURCETYPES } });
    ingestKey = await createKey(running.url, ['ingest']);
    readKey = await createKey(running.url, ['read']);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('takes the seed events from splunk-logging and finds exactly the seed hit', async () => {
    const logger = new Logger({ token: ingestKey, url: running.url, maxRetries: 0 });
    // Events go as they are: the client's default wraps them in {message, severity}.
    logger.eventFormatter = (message) => message;
    const errors: Error[] = [];
    logger.error = (error) => errors.push(error);
    for (const event of seedEvents()) {
      const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        logger.send(
          { message: event, metadata: { sourcetype: 'aws:cloudtrail' } },
          (error, response, body) => {
            if (error) reject(error);
            else resolve({ status: response.statusCode, body });
          },
        );
      });
      expect(answer).toEqual({ status: 200, body: { text: 'Success', code: 0 } });
    }
    expect(errors).toEqual([]);
    expectTheSeedHit(await seedHits(running.url));
  });

  it('takes concatenated envelopes of several sourcetypes, with string events parsed or kept as messages', async () => {
    const envelopes = [
      { time: 1_700_000_000, sourcetype: 'aws:cloudtrail', event: JSON.stringify(seedNonVpcEvent()) },
      { sourcetype: 'custom:app', event: 'user alice logged in', fields: { team: 'a' } },
      { sourcetype: 'custom:app', event: { action: 'logout', user: 'alice' } },
    ];
    // Without separators, then with newlines: both are HEC bodies.
    for (const body of [
      envelopes.map((e) => JSON.stringify(e)).join(''),
      envelopes.map((e) => JSON.stringify(e)).join('\n'),
    ]) {
      for (const path of ['/services/collector/event', '/services/collector']) {
        const answer = await send(running.url, path, body, `Splunk ${ingestKey}`);
        expect(answer, path).toMatchObject({ status: 200, body: { text: 'Success', code: 0 } });
        expect(await lastBatch(running)).toMatchObject({ received: 3, accepted: 3 });
      }
    }
    const bearer = await send(
      running.url,
      '/services/collector/event',
      JSON.stringify(envelopes[2]),
      `Bearer ${ingestKey}`,
    );
    expect(bearer.status).toBe(200);
  });

  it('an event of an unknown sourcetype goes through the usual log type resolution', async () => {
    const byShape = await send(
      running.url,
      '/services/collector/event',
      JSON.stringify({ sourcetype: 'aws:unknown', event: seedSameAccountAccess() }),
      `Splunk ${ingestKey}`,
    );
    expect(byShape.status).toBe(200);
    const named = await send(
      running.url,
      '/services/collector/event',
      JSON.stringify({ event: { p_log_type: 'Custom.App', message: 'x' } }),
      `Splunk ${ingestKey}`,
    );
    expect(named.status).toBe(200);
    const nothing = await send(
      running.url,
      '/services/collector/event',
      `${JSON.stringify({ event: { p_log_type: 'Custom.App' } })}{"sourcetype":"nope","event":"plain text"}`,
      `Splunk ${ingestKey}`,
    );
    expect(nothing.status).toBe(400);
    expect(nothing.body).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
  });

  it('/raw takes one event per line, of the query’s sourcetype', async () => {
    const body = `user alice logged in\r\n${JSON.stringify({ action: 'logout' })}\n\nuser bob logged in\n`;
    for (const path of [
      '/services/collector/raw?sourcetype=custom:app',
      '/services/collector/raw/1.0?sourcetype=custom:app',
    ]) {
      const answer = await send(running.url, path, body, `Splunk ${ingestKey}`, {
        'content-type': 'text/plain',
      });
      expect(answer, path).toMatchObject({ status: 200, body: { text: 'Success', code: 0 } });
      expect(await lastBatch(running)).toMatchObject({ received: 3, accepted: 3 });
    }
    const noType = await send(running.url, '/services/collector/raw', 'plain text\n', `Splunk ${ingestKey}`);
    expect(noType).toMatchObject({
      status: 400,
      body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 },
    });
    const empty = await send(
      running.url,
      '/services/collector/raw?sourcetype=custom:app',
      '\n\n',
      `Splunk ${ingestKey}`,
    );
    expect(empty).toMatchObject({ status: 400, body: { text: 'No data', code: 5 } });
  });

  it('/health answers without a key', async () => {
    const health = await http(running.url, 'GET', '/services/collector/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ text: 'HEC is healthy', code: 17 });
  });

  it('answers each error with HEC’s own code', async () => {
    const path = '/services/collector/event';
    const good = JSON.stringify({ sourcetype: 'custom:app', event: 'hello' });
    const cases: Array<[string, string | null, string, number, Record<string, unknown>]> = [
      ['no token', null, good, 401, { text: 'Token is required', code: 2 }],
      ['unknown token', 'Splunk not-a-key-of-ours', good, 403, { text: 'Invalid token', code: 4 }],
      ['read key', `Splunk ${readKey}`, good, 403, { text: 'Invalid authorization', code: 3 }],
      ['no data', `Splunk ${ingestKey}`, '  \n', 400, { text: 'No data', code: 5 }],
      [
        'invalid JSON',
        `Splunk ${ingestKey}`,
        `${good}{"event": nope}`,
        400,
        { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 },
      ],
      [
        'no event',
        `Splunk ${ingestKey}`,
        `${good}${good}{"sourcetype":"custom:app"}`,
        400,
        { text: 'Event field is required', code: 12, 'invalid-event-number': 2 },
      ],
      [
        'blank event',
        `Splunk ${ingestKey}`,
        '{"event":"  "}',
        400,
        { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 },
      ],
      [
        // JSON in a string escapes the decoder's depth check; it is checked once parsed.
        'a string event nested 100 levels',
        `Splunk ${ingestKey}`,
        `${good}${JSON.stringify({ sourcetype: 'aws:cloudtrail', event: `${'{"a":'.repeat(100)}1${'}'.repeat(100)}` })}`,
        400,
        { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 },
      ],
    ];
    for (const [name, authorization, body, status, expected] of cases) {
      const answer = await send(running.url, path, body, authorization);
      expect(answer.status, name).toBe(status);
      expect(answer.body, name).toEqual(expected);
      expect(answer.headers.get('content-type'), name).toContain('application/json');
    }
    // A refused body stores nothing, not even the good envelopes before the bad one.
    const before = await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches');
    await send(running.url, path, `${good}{"event": nope}`, `Splunk ${ingestKey}`);
    expect(await rows(running, 'SELECT CAST(COUNT(*) AS INTEGER) AS n FROM ingest_batches')).toEqual(before);
  });
});

describe('HEC under the rate limit', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      builtinRules: false,
      env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '1' },
    });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('answers "Server is busy" with Retry-After', async () => {
    const key = await createKey(running.url, ['ingest']);
    const body = JSON.stringify({ event: { p_log_type: 'Custom.App', message: 'x' } });
    const first = await send(running.url, '/services/collector/event', body, `Splunk ${key}`);
    expect(first.status).toBe(200);
    const busy = await send(running.url, '/services/collector/event', body, `Splunk ${key}`);
    expect(busy.status).toBe(503);
    expect(busy.body).toEqual({ text: 'Server is busy', code: 9 });
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('Elasticsearch bulk', () => {
  let running: RunningApp;
  let ingestKey: string;

  beforeAll(async () => {
    running = await startApp();
    ingestKey = await createKey(running.url, ['ingest']);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('takes the seed events from the official client’s bulk helper and finds exactly the seed hit', async () => {
    const client = new Client({ node: running.url, auth: { bearer: ingestKey } });
    try {
      const info = await client.info();
      expect(info).toMatchObject({ tagline: 'You Know, for Search', version: { build_flavor: 'default' } });
      const dropped: unknown[] = [];
      const result = await client.helpers.bulk({
        datasource: seedEvents(),
        onDocument: () => ({ index: { _index: 'cloudtrail-2025' } }),
        onDrop: (item) => dropped.push(item),
      });
      expect(dropped).toEqual([]);
      expect(result).toMatchObject({ total: 3, successful: 3, failed: 0 });
    } finally {
      await client.close();
    }
    expectTheSeedHit(await seedHits(running.url));
  });

  it('answers per item: created, rejected events, and update or delete refused', async () => {
    const lines = [
      { index: { _index: 'cloudtrail-x', _id: 'a' } },
      seedNonVpcEvent(),
      { create: { _index: 'app-logs' } },
      { message: 'no log type' },
      { delete: { _index: 'cloudtrail-x', _id: 'a' } },
      { update: { _index: 'cloudtrail-x', _id: 'a' } },
      { doc: { x: 1 } },
      { index: {} },
      { p_log_type: 'Custom.App', message: 'named in the event' },
    ];
    const answer = await send(
      running.url,
      '/cloudtrail-path/_bulk',
      `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`,
      `Bearer ${ingestKey}`,
      { 'content-type': 'application/x-ndjson' },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(answer.body.errors).toBe(true);
    const items = answer.body.items;
    expect(items).toHaveLength(5);
    expect(items[0]).toEqual({
      index: {
        _index: 'cloudtrail-x',
        _id: 'a',
        status: 201,
        result: 'created',
        _version: 1,
        _shards: { total: 1, successful: 1, failed: 0 },
      },
    });
    expect(items[1].create).toMatchObject({
      _index: 'app-logs',
      status: 400,
      error: { type: 'document_parsing_exception' },
    });
    expect(items[1].create._id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(items[2].delete).toMatchObject({
      status: 400,
      error: { type: 'action_request_validation_exception' },
    });
    expect(items[3].update).toMatchObject({ status: 400 });
    // No _index: the path's, which BULK_INDICES does not name; the event's own p_log_type decides.
    expect(items[4].index).toMatchObject({ _index: 'cloudtrail-path', status: 201 });
    expect(await lastBatch(running)).toMatchObject({ received: 3, accepted: 2 });
  });

  it('refuses a body that is not a bulk request, and a missing key, in Elasticsearch’s terms', async () => {
    const malformed = await send(running.url, '/_bulk', '{"index":{}}\n', `Bearer ${ingestKey}`);
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(malformed.body).toMatchObject({ status: 400, error: { type: 'illegal_argument_exception' } });
    const unknownAction = await send(running.url, '/_bulk', '{"upsert":{}}\n{}\n', `Bearer ${ingestKey}`);
    expect(unknownAction.status).toBe(400);
    const empty = await send(running.url, '/_bulk', '', `Bearer ${ingestKey}`);
    expect(empty.body).toMatchObject({ status: 400, error: { type: 'action_request_validation_exception' } });
    const anonymous = await send(running.url, '/_bulk', '{"index":{}}\n{}\n', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(anonymous.body).toMatchObject({ status: 401, error: { type: 'security_exception' } });
  });

  it('the root answers like Elasticsearch 8 without a key, to GET and HEAD', async () => {
    const root = await http(running.url, 'GET', '/', { key: null });
    expect(root.status).toBe(200);
    expect(root.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(root.body).toMatchObject({
      cluster_name: expect.any(String),
      cluster_uuid: expect.any(String),
      version: {
        number: expect.stringMatching(/^8\.\d+\.\d+$/),
        build_flavor: 'default',
        lucene_version: expect.any(String),
      },
      tagline: 'You Know, for Search',
    });
    expect((await http(running.url, 'HEAD', '/', { key: null })).status).toBe(200);
  });
});
