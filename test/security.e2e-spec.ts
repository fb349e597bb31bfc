// API keys, scopes, the audit trail, the rate limit and CORS, over real HTTP. The route list comes from
// the OpenAPI document, so a route added later is checked without anyone remembering to add it here.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { http, removeDatabase, rows, startApp, TEST_ADMIN_KEY, type RunningApp } from './support/app.js';
import { run, start, stop } from './support/process.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';
const ISSUED_KEY = /^tl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;
/**
 * The only operations anyone may call without a key (besides /docs itself): health, and the probes that
 * forwarders make before sending (HEC's health, Elasticsearch's root).
 */
const PUBLIC_OPERATIONS = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /services/collector/health',
  'GET /services/collector/health/1.0',
  'GET /',
]);
/** Routes for forwarders: an ingest key may send to them, and they answer in their protocol's terms. */
const HEC_OPERATIONS = new Set([
  'POST /services/collector',
  'POST /services/collector/event',
  'POST /services/collector/event/1.0',
  'POST /services/collector/raw',
  'POST /services/collector/raw/1.0',
]);
const BULK_OPERATIONS = new Set(['POST /_bulk', 'POST /{index}/_bulk']);
const INGEST_OPERATIONS = new Set(['POST /v1/events', ...HEC_OPERATIONS, ...BULK_OPERATIONS]);
/** GET operations that only an admin may read. */
const ADMIN_READS = new Set(['GET /v1/api-keys', 'GET /v1/audit']);

interface Operation {
  method: string;
  template: string;
  /** The path with every parameter filled in. */
  path: string;
}

async function operations(base: string): Promise<Operation[]> {
  const document = await http<{ paths: Record<string, Record<string, unknown>> }>(base, 'GET', '/docs-json', {
    key: null,
  });
  expect(document.status).toBe(200);
  return Object.entries(document.body.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map((method) => ({
        method: method.toUpperCase(),
        template,
        path: template.replace(/\{ruleId\}/g, SEED_RULE_ID).replace(/\{[^}]+\}/g, '1'),
      })),
  );
}

const name = (operation: Operation) => `${operation.method} ${operation.template}`;

async function createKey(base: string, scopes: string[], keyName = scopes.join('+')): Promise<string> {
  const created = await http(base, 'POST', '/v1/api-keys', { body: { name: keyName, scopes } });
  expect(created.status, created.text).toBe(201);
  return created.body.key as string;
}

/** Sends an operation with a key and a harmless body; only the status matters here. */
async function call(base: string, operation: Operation, key: string | null): Promise<number> {
  const body = operation.method === 'GET' || operation.method === 'DELETE' ? undefined : {};
  return (await http(base, operation.method, operation.path, { key, body })).status;
}

describe('API keys and scopes', () => {
  let running: RunningApp;
  let all: Operation[];
  let ingestKey: string;
  let readKey: string;

  beforeAll(async () => {
    running = await startApp();
    all = await operations(running.url);
    ingestKey = await createKey(running.url, ['ingest']);
    readKey = await createKey(running.url, ['read']);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('the OpenAPI document lists every route, and each protected one says it needs the bearer key', async () => {
    const names = all.map(name);
    for (const expected of ['POST /v1/events', 'GET /v1/hits', 'POST /v1/api-keys', 'GET /v1/audit'])
      expect(names).toContain(expected);
    const document = await http(running.url, 'GET', '/docs-json', { key: null });
    expect(document.body.components.securitySchemes['api-key']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const operation of all) {
      const described = document.body.paths[operation.template][operation.method.toLowerCase()];
      if (PUBLIC_OPERATIONS.has(name(operation))) expect(described.security, name(operation)).toBeUndefined();
      else expect(described.security, name(operation)).toEqual([{ 'api-key': [] }]);
    }
  });

  it('without a key, every protected route answers 401 and says how to authenticate', async () => {
    const protectedOperations = all.filter((operation) => !PUBLIC_OPERATIONS.has(name(operation)));
    expect(protectedOperations.length).toBeGreaterThanOrEqual(20);
    for (const operation of protectedOperations) {
      const answer = await http(running.url, operation.method, operation.path, { key: null });
      expect(answer.status, name(operation)).toBe(401);
      if (HEC_OPERATIONS.has(name(operation))) {
        expect(answer.body, name(operation)).toEqual({ text: 'Token is required', code: 2 });
        continue;
      }
      if (BULK_OPERATIONS.has(name(operation))) {
        expect(answer.headers.get('x-elastic-product'), name(operation)).toBe('Elasticsearch');
        expect(answer.body, name(operation)).toMatchObject({
          status: 401,
          error: { type: 'security_exception' },
        });
        continue;
      }
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="tripline"');
      expect(answer.body.code).toBe('api_key_required');
    }
    for (const operation of all.filter((candidate) => PUBLIC_OPERATIONS.has(name(candidate))))
      expect(await call(running.url, operation, null), name(operation)).toBe(200);
    expect((await http(running.url, 'GET', '/docs', { key: null })).status).toBe(200);
  });

  it('an unknown key, a malformed header or another scheme is 401 too', async () => {
    const forged = `tl_${'0'.repeat(12)}_${'A'.repeat(43)}`;
    for (const authorization of [
      `Bearer ${forged}`,
      `Bearer ${TEST_ADMIN_KEY}x`,
      'Basic dXNlcjpwYXNz',
      'Bearer',
    ]) {
      const answer = await http(running.url, 'GET', '/v1/hits', { key: null, headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
      expect(answer.body.code).toBe('invalid_api_key');
    }
  });

  it('refuses before reading the body: an unauthenticated bad body is a 401, not a 400', async () => {
    const answer = await http(running.url, 'POST', '/v1/rules', {
      key: null,
      body: '{not json',
      contentType: 'application/json',
    });
    expect(answer.status).toBe(401);
    // No route: a 404 whatever the body, which is never parsed.
    for (const [method, path] of [
      ['POST', '/nope'],
      ['DELETE', '/v1/hits'],
      ['POST', '/healthz'],
    ] as const) {
      const unrouted = await http(running.url, method, path, {
        key: null,
        body: '{not json',
        contentType: 'application/json',
      });
      expect(unrouted.status, `${method} ${path}`).toBe(404);
    }
  });

  it('checks HEAD like GET, and serves the documentation in every form without a key', async () => {
    expect((await http(running.url, 'HEAD', '/v1/hits', { key: null })).status).toBe(401);
    expect((await http(running.url, 'HEAD', '/v1/api-keys', { key: readKey })).status).toBe(403);
    expect((await http(running.url, 'HEAD', '/v1/hits', { key: readKey })).status).toBe(200);
    for (const path of ['/docs', '/docs-json', '/docs-yaml'])
      expect((await http(running.url, 'GET', path, { key: null })).status, path).toBe(200);
  });

  it('an ingest key may only send events', async () => {
    for (const operation of all.filter((candidate) => !PUBLIC_OPERATIONS.has(name(candidate)))) {
      const status = await call(running.url, operation, ingestKey);
      // Events get past the key check (the empty body, {}, is then a 400 of its own).
      if (INGEST_OPERATIONS.has(name(operation))) expect(status, name(operation)).toBe(400);
      else expect(status, name(operation)).toBe(403);
    }
    const events = await http(running.url, 'POST', '/v1/events', {
      key: ingestKey,
      body: [seedExternalPrincipalAccess(), seedSameAccountAccess(), seedNonVpcEvent()],
    });
    expect(events.status).toBe(200);
    expect(events.body.hits).toBe(1);
    const refused = await http(running.url, 'GET', '/v1/hits', { key: ingestKey });
    expect(refused.body).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'read',
      keyScopes: ['ingest'],
    });
  });

  it('a read key may query but change nothing, and may not read keys or the audit trail', async () => {
    for (const operation of all.filter((candidate) => !PUBLIC_OPERATIONS.has(name(candidate)))) {
      const status = await call(running.url, operation, readKey);
      if (operation.method === 'GET' && !ADMIN_READS.has(name(operation)))
        expect([200, 404], `${name(operation)} gave ${status}`).toContain(status);
      else expect(status, name(operation)).toBe(403);
    }
  });

  it('accepts the Splunk scheme that HEC clients send', async () => {
    const answer = await http(running.url, 'GET', '/v1/hits', {
      key: null,
      headers: { authorization: `Splunk ${readKey}` },
    });
    expect(answer.status).toBe(200);
  });

  it('shows a key once, stores only its sha256, and a revoked key fails on its next request', async () => {
    const created = await http(running.url, 'POST', '/v1/api-keys', {
      body: { name: 'forwarder', scopes: ['ingest', 'read'] },
    });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(ISSUED_KEY);
    expect(created.body.apiKey).toMatchObject({
      name: 'forwarder',
      scopes: ['ingest', 'read'],
      revokedAt: null,
    });
    const id = created.body.apiKey.id as string;
    expect(key.startsWith(`tl_${id}_`)).toBe(true);

    const listed = await http(running.url, 'GET', '/v1/api-keys');
    expect(listed.text).not.toContain(key.slice(16));
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);
    const stored = await rows(running, `SELECT * FROM "api_keys" WHERE "id" = ?`, [id]);
    expect(stored[0]?.secret_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(key.slice(16));

    expect((await http(running.url, 'GET', '/v1/hits', { key })).status).toBe(200);
    const revoked = await http(running.url, 'DELETE', `/v1/api-keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const after = await http(running.url, 'GET', '/v1/hits', { key });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('invalid_api_key');
    expect((await http(running.url, 'DELETE', '/v1/api-keys/000000000000')).status).toBe(404);
    const trail = await http(running.url, 'GET', `/v1/audit?targetType=api_key&targetId=${id}`);
    expect(trail.body.items.map((event: { action: string }) => event.action)).toEqual([
      'key.revoke',
      'key.create',
    ]);
  });

  it('refuses keys without a name or with unknown scopes', async () => {
    for (const body of [
      { name: 'x', scopes: ['root'] },
      { name: 'x', scopes: [] },
      { name: '   ', scopes: ['read'] },
      { scopes: ['read'] },
      { name: 'x'.repeat(101), scopes: ['read'] },
    ]) {
      const answer = await http(running.url, 'POST', '/v1/api-keys', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('the audit trail', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('keeps every change to rules and keys with the key, the action, the target and the time', async () => {
    const authorKey = await createKey(running.url, ['admin'], 'author');
    const authorId = /^tl_([0-9a-f]{12})_/.exec(authorKey)?.[1] ?? '';
    const rule = `AnalysisType: rule
RuleID: Audit.Example
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "DeleteTrail"
Tests:
  - Name: delete
    ExpectedResult: true
    Log: { eventName: DeleteTrail }
`;
    const before = Date.now();
    expect((await http(running.url, 'POST', '/v1/rules', { key: authorKey, body: rule })).status).toBe(201);
    const second = rule.replace('Severity: Low', 'Severity: High');
    expect(
      (await http(running.url, 'PUT', '/v1/rules/Audit.Example', { key: authorKey, body: second })).status,
    ).toBe(200);
    // An identical upload changes nothing and records nothing.
    expect((await http(running.url, 'POST', '/v1/rules', { key: authorKey, body: second })).status).toBe(200);
    await http(running.url, 'PATCH', '/v1/rules/Audit.Example', { key: authorKey, body: { enabled: false } });
    await http(running.url, 'DELETE', '/v1/rules/Audit.Example', { key: authorKey });

    const trail = await http(running.url, 'GET', '/v1/audit?targetType=rule&targetId=Audit.Example');
    expect(trail.status).toBe(200);
    expect(trail.body.items.map((event: { action: string }) => event.action)).toEqual([
      'rule.delete',
      'rule.disable',
      'rule.update',
      'rule.create',
    ]);
    for (const event of trail.body.items) {
      expect(event.keyId).toBe(authorId);
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(before - 1000);
      expect(event.requestId).toEqual(expect.any(String));
    }
    expect(trail.body.items[2].details).toMatchObject({ version: 2 });

    const versions = await http(running.url, 'GET', '/v1/rules/Audit.Example/versions/2');
    expect(versions.body.createdByKey).toBe(authorId);

    const keyEvents = await http(running.url, 'GET', `/v1/audit?targetType=api_key&targetId=${authorId}`);
    expect(keyEvents.body.items).toEqual([
      expect.objectContaining({
        action: 'key.create',
        keyId: 'env-admin',
        details: { name: 'author', scopes: ['admin'] },
      }),
    ]);
    const byKey = await http(running.url, 'GET', `/v1/audit?keyId=${authorId}&limit=2`);
    expect(byKey.body.items).toHaveLength(2);
    const rest = await http(
      running.url,
      'GET',
      `/v1/audit?keyId=${authorId}&limit=2&cursor=${byKey.body.nextCursor}`,
    );
    expect(rest.body.items.map((event: { action: string }) => event.action)).toEqual([
      'rule.update',
      'rule.create',
    ]);
    expect(rest.body.nextCursor).toBeNull();

    // Alert triage is audited too.
    const ingested = await http(running.url, 'POST', '/v1/events', {
      body: [seedExternalPrincipalAccess()],
    });
    expect(ingested.body.alerts).toBe(1);
    const [alert] = (await http(running.url, 'GET', '/v1/alerts')).body.items;
    await http(running.url, 'PATCH', `/v1/alerts/${alert.id}`, {
      key: authorKey,
      body: { status: 'acknowledged', comment: 'expected' },
    });
    const triage = await http(running.url, 'GET', `/v1/audit?targetType=alert&targetId=${alert.id}`);
    expect(triage.body.items).toEqual([
      expect.objectContaining({
        action: 'alert.status',
        keyId: authorId,
        details: { from: 'open', to: 'acknowledged' },
      }),
    ]);

    // The built-in pack is installed by the service itself.
    const builtin = await http(running.url, 'GET', `/v1/audit?targetId=${SEED_RULE_ID}`);
    expect(builtin.body.items).toEqual([expect.objectContaining({ action: 'rule.create', keyId: 'system' })]);
    expect((await http(running.url, 'GET', '/v1/audit?targetType=nope')).status).toBe(400);
    expect((await http(running.url, 'GET', '/v1/audit?since=yesterday')).status).toBe(400);
  });
});

describe('the first admin key', () => {
  let directory = '';

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tripline-keys-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('is created and printed once when no key exists and none is given', async () => {
    const env = { TRIPLINE_ADMIN_KEY: '', TRIPLINE_BUILTIN_RULES: '' };
    const first = await start(directory, env);
    const printed = /store it now: (tl_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1] ?? '';
    expect(printed).toMatch(ISSUED_KEY);
    expect((await http(first.url, 'GET', '/v1/api-keys', { key: printed })).status).toBe(200);
    expect((await http(first.url, 'GET', '/v1/api-keys', { key: null })).status).toBe(401);
    expect(await stop(first)).toBe(true);

    const second = await start(directory, env);
    expect(second.output()).not.toContain('store it now');
    // Every start says that keys exist and how to get a new admin key.
    expect(second.output()).toContain('1 API key active; keys are shown only when made');
    expect(second.output()).toContain('TRIPLINE_ADMIN_KEY');
    expect((await http(second.url, 'GET', '/v1/rules', { key: printed })).status).toBe(200);
    expect(await stop(second)).toBe(true);
  });

  it('makes no key on a start that fails (a port in use), and prints it on the next that listens', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'tripline-key-'));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const env = { TRIPLINE_ADMIN_KEY: '', TRIPLINE_BUILTIN_RULES: '' };
      const port = String((blocker.address() as { port: number }).port);
      const failed = await run(fresh, { ...env, PORT: port });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^tripline: cannot start .*EADDRINUSE/m);
      expect(`${failed.stdout}${failed.stderr}`).not.toContain('store it now');
      const next = await start(fresh, env);
      expect(next.output()).toMatch(/store it now: tl_/);
      expect(next.output().indexOf('store it now')).toBeLessThan(next.output().indexOf('listening on'));
      expect(await stop(next)).toBe(true);
    } finally {
      blocker.close();
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('TRIPLINE_ADMIN_KEY is an admin key while set, and a new value replaces the old one', async () => {
    const oldKey = 'operator-key-one-0123456789abcdefghijkl';
    const newKey = 'operator-key-two-0123456789abcdefghijkl';
    const first = await startApp({ env: { TRIPLINE_ADMIN_KEY: oldKey } });
    expect((await http(first.url, 'GET', '/v1/api-keys', { key: oldKey })).status).toBe(200);
    await first.close();
    const second = await startApp({ databaseUrl: first.databaseUrl, env: { TRIPLINE_ADMIN_KEY: newKey } });
    expect((await http(second.url, 'GET', '/v1/api-keys', { key: oldKey })).status).toBe(401);
    const trail = await http(second.url, 'GET', '/v1/audit?targetId=env-admin', { key: newKey });
    expect(trail.body.items.map((event: { action: string }) => event.action)).toEqual([
      'key.rotate',
      'key.create',
    ]);
    await second.close();
    await removeDatabase(second);
  });
});

describe('limits', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      env: {
        RATE_LIMIT_PER_SECOND: '1',
        RATE_LIMIT_BURST: '5',
        MAX_JSON_DEPTH: '10',
        RULE_MAX_CHARS: '2048',
      },
    });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('each key has its own rate limit; above it, 429 with Retry-After', async () => {
    const first = await createKey(running.url, ['read']);
    const second = await createKey(running.url, ['read']);
    const statuses: number[] = [];
    for (let request = 0; request < 7; request++)
      statuses.push((await http(running.url, 'GET', '/v1/hits', { key: first })).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toContain(429);
    const limited = await http(running.url, 'GET', '/v1/hits', { key: first });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body).toMatchObject({ code: 'rate_limited' });
    expect((await http(running.url, 'GET', '/v1/hits', { key: second })).status).toBe(200);
  });

  it('JSON depth and rule size follow their settings', async () => {
    // The admin key made two requests above; these two keep it within its burst of 5.
    let deep: unknown = { leaf: true };
    for (let level = 0; level < 11; level++) deep = { deep };
    const refused = await http(running.url, 'POST', `/v1/rules/${SEED_RULE_ID}/test`, {
      body: { events: [deep] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('deeper than 10 levels');
    const big = `# ${'x'.repeat(3000)}\nRuleID: Big\n`;
    const tooBig = await http(running.url, 'POST', '/v1/rules', { body: big });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('rule_source_too_large');
  });
});

describe('CORS', () => {
  let closed: RunningApp;
  let open: RunningApp;
  const origin = 'https://console.example.com';

  beforeAll(async () => {
    closed = await startApp({ builtinRules: false });
    open = await startApp({ builtinRules: false, env: { CORS_ORIGINS: origin } });
  });

  afterAll(async () => {
    for (const running of [closed, open]) {
      await running.close();
      await removeDatabase(running);
    }
  });

  const preflight = (base: string, from: string) =>
    http(base, 'OPTIONS', '/v1/hits', {
      key: null,
      headers: {
        origin: from,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });

  it('sends no CORS header unless origins are configured', async () => {
    const answer = await http(closed.url, 'GET', '/v1/hits', { headers: { origin } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(closed.url, origin)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the configured origins only', async () => {
    const allowed = await preflight(open.url, origin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const read = await http(open.url, 'GET', '/v1/hits', { headers: { origin } });
    expect(read.headers.get('access-control-allow-origin')).toBe(origin);
    const other = await http(open.url, 'GET', '/v1/hits', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Answers differ by origin: a shared cache must not hand one origin's answer to another.
    expect(other.headers.get('vary')).toContain('Origin');
    expect(
      (await preflight(open.url, 'https://evil.example')).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });
});
