// Stopping the built server (a child process) while a batch is on its way in: SIGTERM closes the door to
// new connections, the batch in flight is still read, stored and answered, and the process exits 0.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExternalPrincipalAccess } from './fixtures/seed-events.js';
import { bearer, http } from './support/app.js';
import { MAIN, start, stop, type Server } from './support/process.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';
/** Each one a hit of the seed rule (a distinct eventID each). */
const EVENTS = 3000;

/** True when a new TCP connection to the server is accepted. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/**
 * Starts POST /v1/events on a keep-alive connection (as forwarders send) and sends the first part of the
 * body; `finish` sends the rest, `answer` is the response.
 */
function startIngest(url: string, body: string, splitAt: number) {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true });
  let answered: (answer: Answer) => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const answer = new Promise<Answer>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  const outgoing = request(
    {
      host: hostname,
      port: Number(port),
      method: 'POST',
      path: '/v1/events',
      agent,
      headers: {
        ...bearer(),
        'content-type': 'application/x-ndjson',
        'content-length': Buffer.byteLength(body),
      },
    },
    (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        answered({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) });
      });
    },
  );
  outgoing.on('error', failed);
  outgoing.write(body.slice(0, splitAt));
  return {
    answer,
    finish: () => outgoing.end(body.slice(splitAt)),
    /** The client keeps its connection until then, as a forwarder would between batches. */
    close: () => agent.destroy(),
  };
}

describe('stopping the server', () => {
  let workDir = '';

  beforeAll(async () => {
    expect(existsSync(MAIN), 'npm run build first').toBe(true);
    workDir = await mkdtemp(join(tmpdir(), 'tripline-shutdown-'));
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('on SIGTERM refuses new connections, stores and answers the batch in flight, then exits 0', async () => {
    const server: Server = await start(workDir);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      server.process.removeAllListeners('exit');
      server.process.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const lines = Array.from({ length: EVENTS }, (_, i) =>
      JSON.stringify({ ...seedExternalPrincipalAccess(), eventID: `shutdown-${i}` }),
    );
    const body = lines.join('\n');
    // Half the body now, the rest once the server is stopping: the request is in flight throughout.
    const ingest = startIngest(server.url, body, lines.slice(0, EVENTS / 2).join('\n').length + 1);
    await sleep(200);

    server.process.kill('SIGTERM');
    await waitFor('the stop to begin', () => server.output().includes('SIGTERM'));
    await waitFor('new connections to be refused', async () => !(await accepts(server.url)));
    expect(server.process.exitCode).toBeNull();

    ingest.finish();
    const answer = await ingest.answer;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ received: EVENTS, accepted: EVENTS, rejectedCount: 0, hits: EVENTS });
    // The connection is not kept alive for a server that is going away.
    expect(answer.headers.connection).toBe('close');

    // The server exits while the client still holds its connection: it closes the connection itself
    // rather than wait for the client's keep-alive to end (which would outlast the test's timeout).
    try {
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      ingest.close();
    }
    const output = server.output();
    expect(output).toMatch(/"msg":"POST \/v1\/events 200"/);
    expect(output).toMatch(/"msg":"stopped in \d+ ms"/);

    // Everything answered was stored: a restart finds the whole batch.
    const restarted = await start(workDir);
    try {
      const stats = await http(
        restarted.url,
        'GET',
        '/v1/stats?since=2023-01-01T00:00:00Z&until=2024-01-01T00:00:00Z',
      );
      expect(stats.status).toBe(200);
      expect(stats.body.totals).toEqual([{ ruleId: SEED_RULE_ID, hits: EVENTS, alerts: 1 }]);
    } finally {
      expect(await stop(restarted)).toBe(true);
    }
  });

  it('exits 0 on SIGINT when idle', async () => {
    const server = await start(workDir);
    const exited = new Promise<number | null>((resolve) => {
      server.process.removeAllListeners('exit');
      server.process.on('exit', (code) => resolve(code));
    });
    server.process.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
