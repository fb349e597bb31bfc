// What broke under an attacker's and an operator's hands, held to account on both databases: a rule
// cannot make ingest grow without bound, many alert groups in one batch are grouped rather than refused,
// connections held without a key are closed and capped, and a client's mistake in a query is a 400 that
// names the parameter (never a 500 from the database).
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  http,
  removeDatabase,
  rows,
  startApp,
  TEST_ADMIN_KEY,
  TEST_DATABASE,
  type RunningApp,
} from './support/app.js';

/** A TCP connection to the app from `localAddress` (any 127.x.y.z is this machine). */
function openSocket(url: string, localAddress = '127.0.0.1'): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Everything the server sent until it closed the connection. */
function untilClosed(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.on('close', () => resolve(received)));
}

/** A GET from `localAddress` on a connection of its own; resolves with the status. */
function getFrom(url: string, path: string, localAddress: string, key?: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port: Number(port),
        path,
        localAddress,
        agent: false,
        headers: key ? bearer(key) : {},
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** A rule that matches every event of its log type, with the outputs given. */
function customRule(ruleId: string, outputs: string): string {
  return `AnalysisType: rule
RuleID: ${ruleId}
LogTypes: [Custom.Reliability]
Severity: Low
Detection:
  - Key: kind
    Condition: Equals
    Value: ${ruleId}
${outputs}`;
}

describe(`reliability (${TEST_DATABASE})`, () => {
  let running: RunningApp;
  const send = (events: object[]) =>
    http(running.url, 'POST', '/v1/events?logType=Custom.Reliability', {
      body: events.map((event) => JSON.stringify(event)).join('\n'),
      contentType: 'application/x-ndjson',
    });

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  describe('a rule cannot make a batch grow without bound', () => {
    it('refuses an AlertTitle of 100,000 placeholders with a 422 naming AlertTitle', async () => {
      const title = '{k}'.repeat(100_000);
      const answer = await http(running.url, 'POST', '/v1/rules', {
        body: customRule('Reliability.Placeholders', `AlertTitle: "${title}"\n`),
      });
      expect(answer.status).toBe(422);
      expect(answer.body.errors).toEqual([
        expect.objectContaining({ key: 'AlertTitle', code: 'too_many', line: 9, column: 314 }),
      ]);
    });

    it('refuses 101 AlertContext fields and 21 GroupBy keys, naming each key', async () => {
      const fields = Array.from({ length: 101 }, (_, i) => `  - { KeyName: f${i}, KeyValue: { Key: big } }`);
      const keys = Array.from({ length: 21 }, () => '  - Key: big');
      const answer = await http(running.url, 'POST', '/v1/rules', {
        body: customRule(
          'Reliability.TooMany',
          `AlertContext:\n${fields.join('\n')}\nGroupBy:\n${keys.join('\n')}\n`,
        ),
      });
      expect(answer.status).toBe(422);
      expect(answer.body.errors.map((error: { key: string }) => error.key)).toEqual([
        'AlertContext',
        'GroupBy',
      ]);
    });

    it('stores bounded outputs for a rule at every limit over events with large values', async () => {
      const ruleId = 'Reliability.AtTheLimits';
      const title = Array.from({ length: 100 }, () => '{big}').join('');
      const fields = Array.from({ length: 100 }, (_, i) => `  - { KeyName: f${i}, KeyValue: { Key: doc } }`);
      const keys = Array.from({ length: 20 }, () => '  - Key: doc');
      const stored = await http(running.url, 'POST', '/v1/rules', {
        body: customRule(
          ruleId,
          `AlertTitle: "${title}"\nAlertContext:\n${fields.join('\n')}\nGroupBy:\n${keys.join('\n')}\n`,
        ),
      });
      expect(stored.status).toBe(201);
      // 100 events, each with a 50 kB string and a 50 kB document: before the bounds, each hit rendered
      // 100 × 50 kB of title and kept 100 × 50 kB of output fields.
      const events = Array.from({ length: 100 }, (_, i) => ({
        kind: ruleId,
        n: i,
        big: `${i}:${'b'.repeat(50_000)}`,
        doc: { n: i, text: 'd'.repeat(50_000) },
      }));
      const answer = await send(events);
      expect(answer.status).toBe(200);
      expect(answer.body.hits).toBe(100);
      const found = await rows<{ title: string; dedup_key: string; output_fields: string }>(
        running,
        'SELECT "title", "dedup_key", "output_fields" FROM "hits" WHERE "rule_id" = ?',
        [ruleId],
      );
      expect(found).toHaveLength(100);
      for (const hit of found) {
        expect(hit.title).toHaveLength(1000);
        expect(hit.dedup_key).toHaveLength(1000);
        expect(hit.output_fields.length).toBeLessThan(70 * 1024);
      }
    });
  });

  describe('alert grouping takes any number of groups in a batch', () => {
    const ruleId = 'Reliability.PerKey';
    /** `count` events, each its own dedup group (GroupBy key), `prefix` keeping batches apart. */
    const events = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({ kind: ruleId, key: `${prefix}-${i}` }));
    const alertsOf = async (prefix: string) =>
      (
        await rows<{ n: number; hits: number }>(
          running,
          `SELECT CAST(COUNT(*) AS INTEGER) AS "n", CAST(SUM("hit_count") AS INTEGER) AS "hits" FROM "alerts" WHERE "rule_id" = ? AND "dedup_key" LIKE ?`,
          [ruleId, `${prefix}-%`],
        )
      )[0];

    beforeAll(async () => {
      const stored = await http(running.url, 'POST', '/v1/rules', {
        body: customRule(ruleId, 'GroupBy:\n  - Key: key\n'),
      });
      expect(stored.status).toBe(201);
    });

    // PostgreSQL with default settings has room for 64 locks per connection: one lock per group failed
    // with "out of shared memory" (500), and a forwarder retried the batch for ever.
    it('groups 15,000 dedup keys in one batch', async () => {
      const answer = await send(events('single', 15_000));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ hits: 15_000, alerts: 15_000 });
      expect(await alertsOf('single')).toEqual({ n: 15_000, hits: 15_000 });
    });

    it('groups three concurrent batches of 8,000 dedup keys each, then three that share their keys', async () => {
      const apart = await Promise.all([0, 1, 2].map((batch) => send(events(`apart${batch}`, 8000))));
      expect(apart.map((answer) => answer.status)).toEqual([200, 200, 200]);
      for (const batch of [0, 1, 2]) expect(await alertsOf(`apart${batch}`)).toEqual({ n: 8000, hits: 8000 });
      // The same 8,000 keys in all three: each key is one alert holding the hit of every batch.
      const together = await Promise.all([0, 1, 2].map(() => send(events('together', 8000))));
      expect(together.map((answer) => answer.status)).toEqual([200, 200, 200]);
      expect(await alertsOf('together')).toEqual({ n: 8000, hits: 24_000 });
    });
  });

  describe('connections a client holds without a key are closed, and capped', () => {
    it('closes the connection of a request refused before its body was read, however slowly it trickles', async () => {
      const socket = await openSocket(running.url);
      const closed = untilClosed(socket);
      socket.write(
        'POST /v1/events HTTP/1.1\r\nHost: tripline\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[',
      );
      // Keeps trickling, as a slow attacker would, until the server has closed the connection.
      const trickle = setInterval(() => socket.writable && socket.write(' '), 20);
      try {
        const answer = await closed;
        expect(answer).toMatch(/^HTTP\/1\.1 401 /);
        expect(answer.toLowerCase()).toContain('connection: close');
        expect(answer).toContain('application/problem+json');
      } finally {
        clearInterval(trickle);
        socket.destroy();
      }
    });

    it("answers what Node's HTTP parser refuses with problem+json and closes the connection", async () => {
      const malformed = await openSocket(running.url);
      const malformedAnswer = untilClosed(malformed);
      malformed.write('NOT HTTP AT ALL\r\n\r\n');
      expect(await malformedAnswer).toMatch(
        /^HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/problem\+json\r\n/,
      );
      const oversized = await openSocket(running.url);
      const oversizedAnswer = untilClosed(oversized);
      oversized.write(
        `GET /healthz HTTP/1.1\r\nHost: tripline\r\nX-Padding: ${'p'.repeat(64 * 1024)}\r\n\r\n`,
      );
      const answer = await oversizedAnswer;
      expect(answer).toMatch(
        /^HTTP\/1\.1 431 Request Header Fields Too Large\r\nContent-Type: application\/problem\+json\r\n/,
      );
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 431,
        code: 'headers_too_large',
      });
    });

    it('keeps the connection of an answered request with a body read in full', async () => {
      const socket = await openSocket(running.url);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.write(
        `GET /healthz HTTP/1.1\r\nHost: tripline\r\n\r\nGET /healthz HTTP/1.1\r\nHost: tripline\r\n\r\n`,
      );
      await new Promise<void>((resolve) => {
        const check = () => ((received.match(/HTTP\/1\.1 200/g) ?? []).length === 2 ? resolve() : undefined);
        socket.on('data', check);
      });
      expect(received.toLowerCase()).not.toContain('connection: close');
      socket.destroy();
    });

    it('caps open connections per address and in all; other clients, health checks and keyed requests go on', async () => {
      const capped = await startApp({
        builtinRules: false,
        env: { MAX_CONNECTIONS: '8', MAX_CONNECTIONS_PER_ADDRESS: '5' },
      });
      const sockets: Socket[] = [];
      try {
        for (let i = 0; i < 5; i += 1) sockets.push(await openSocket(capped.url, '127.0.0.1'));
        // The sixth from the same address is closed on arrival, without a byte.
        const sixth = await openSocket(capped.url, '127.0.0.1');
        expect(await untilClosed(sixth)).toBe('');
        // Another address still gets through: a health check and a keyed request.
        expect(await getFrom(capped.url, '/healthz', '127.0.0.2')).toBe(200);
        expect(await getFrom(capped.url, '/v1/rules', '127.0.0.2', TEST_ADMIN_KEY)).toBe(200);
        // Eight open in all: a ninth is closed, whatever its address.
        for (let i = 0; i < 3; i += 1) sockets.push(await openSocket(capped.url, '127.0.0.3'));
        const ninth = await openSocket(capped.url, '127.0.0.2');
        expect(await untilClosed(ninth)).toBe('');
        // Connections closed free their places.
        const freed = sockets.splice(0, 4);
        await Promise.all(freed.map((socket) => new Promise<void>((resolve) => socket.end(() => resolve()))));
        await Promise.all(
          freed.map((socket) => new Promise((resolve) => socket.once('close', resolve).destroy())),
        );
        const metrics = await new Promise<string>((resolve, reject) => {
          const { hostname, port } = new URL(capped.url);
          httpRequest(
            { host: hostname, port: Number(port), path: '/metrics', agent: false, headers: bearer() },
            (response) => {
              let text = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => (text += chunk));
              response.on('end', () => resolve(text));
            },
          )
            .on('error', reject)
            .end();
        });
        expect(metrics).toMatch(/tripline_connections_refused_total\{reason="per_address"\} 1/);
        expect(metrics).toMatch(/tripline_connections_refused_total\{reason="total"\} 1/);
      } finally {
        for (const socket of sockets) socket.destroy();
        await capped.close();
        await removeDatabase(capped);
      }
    });
  });

  describe("a client's mistake in a query is a 400 naming the parameter", () => {
    const invalid = async (path: string, parameter: string, method = 'GET', body?: object) => {
      const answer = await http(running.url, method, path, body === undefined ? {} : { body });
      expect(answer.status, path).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.code).toBe('invalid_parameters');
      expect(answer.body.errors.map((error: { parameter: string }) => error.parameter)).toEqual([parameter]);
    };

    it('refuses more than 20 field filters at once (SQLite allows 500 terms in a compound SELECT)', async () => {
      const twenty = Array.from({ length: 20 }, (_, i) => `field.k${i}=v`).join('&');
      expect((await http(running.url, 'GET', `/v1/hits?${twenty}`)).status).toBe(200);
      const many = Array.from({ length: 501 }, (_, i) => `field.k${i}=v`).join('&');
      await invalid(`/v1/hits?${many}`, 'field.k20');
    });

    it('refuses ids beyond 2^31 - 1 (PostgreSQL serial) on both databases', async () => {
      for (const id of ['2147483648', '9999999999', '99999999999999']) {
        await invalid(`/v1/hits/${id}`, 'id');
        await invalid(`/v1/alerts/${id}`, 'id');
        await invalid(`/v1/alerts/${id}`, 'id', 'PATCH', { status: 'acknowledged' });
        await invalid(`/v1/hits?alertId=${id}`, 'alertId');
      }
      expect((await http(running.url, 'GET', '/v1/hits/2147483647')).status).toBe(404);
    });

    it('refuses crafted cursors whose time or id no stored row can have', async () => {
      const crafted = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
      for (const text of ['999999999999999.1', '8639999999999.1', '-1.1', '1700000000000.2147483648']) {
        await invalid(`/v1/hits?cursor=${crafted(text)}`, 'cursor');
        await invalid(`/v1/alerts?cursor=${crafted(text)}`, 'cursor');
        await invalid(`/v1/hits?field.k=v&cursor=${crafted(text)}`, 'cursor');
        await invalid(`/v1/alerts/1?hitsCursor=${crafted(text)}`, 'hitsCursor');
      }
      expect((await http(running.url, 'GET', `/v1/hits?cursor=${crafted('1700000000000.5')}`)).status).toBe(
        200,
      );
    });
  });
});
