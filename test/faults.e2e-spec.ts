// Fault injection on the built server, as an operator meets faults: the disk fills up, another process
// holds SQLite's write lock, PostgreSQL is stopped and restarted, PostgreSQL freezes, and the server itself
// is killed mid-ingest. Each scenario streams numbered batches and afterwards reads the database directly:
// every batch answered 2xx is there in full, and every batch refused stored nothing. Refusals are 5xx
// problems with Retry-After, /readyz says what is wrong while it lasts, and /healthz keeps answering.
import BetterSqlite3 from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newDatabase, removeDatabase } from './support/app.js';
import { PrivatePostgres, privatePostgresMissing } from './support/private-postgres.js';
import { kill, start, stop, type Server } from './support/process.js';
import { systemToolSuiteTitle, tmpfsMissing } from './support/system-tools.js';

/** Every event of the log type is a hit, so a batch stored in part would show in its hit count. */
const EVERY_EVENT_RULE = `AnalysisType: rule
RuleID: Fault.EveryEvent
LogTypes: [Custom.Fault]
Severity: Info
Condition: batch exists
AlertContext:
  - { KeyName: batch, KeyValue: { Key: batch } }
Tests:
  - Name: any event
    ExpectedResult: true
    Log: { batch: 1 }
`;

interface BatchResult {
  number: number;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  /** How long the answer took: reported in the summary, never asserted. */
  ms: number;
}

/** One line on what a scenario saw, for the README's figures: counts, and how long refusals took. */
function report(scenario: string, results: readonly BatchResult[]): void {
  const refusals = results.filter((result) => result.status !== 200);
  const slowest = Math.max(0, ...refusals.map((result) => result.ms));
  const codes = [...new Set(refusals.map((result) => `${result.status} ${result.code ?? ''}`))].join(', ');
  console.log(
    `${scenario}: ${results.length} batches, ${results.length - refusals.length} acknowledged, ${refusals.length} refused (${codes || 'none'}), slowest refusal ${Math.round(slowest)} ms`,
  );
}

/** Hits stored per batch, by its Idempotency-Key ("batch-<n>"): what the database holds, read directly. */
const STORED_PER_BATCH = `SELECT b."idempotency_key" AS "key", CAST(COUNT(h."id") AS INTEGER) AS "hits" FROM "ingest_batches" b LEFT JOIN "hits" h ON h."batch_id" = b."id" GROUP BY b."idempotency_key"`;

function workDirectory(): { directory: string; env: Record<string, string> } {
  const directory = mkdtempSync(join(tmpdir(), 'tripline-faults-'));
  mkdirSync(join(directory, 'rules'));
  writeFileSync(join(directory, 'rules', 'every-event.yml'), EVERY_EVENT_RULE);
  return {
    directory,
    env: { TRIPLINE_BUILTIN_RULES: join(directory, 'rules'), RATE_LIMIT_PER_SECOND: '0' },
  };
}

/** Sends batch `number`: `size` events, each with a few hundred bytes of its own. */
async function sendBatch(url: string, number: number, size: number): Promise<BatchResult> {
  const lines = Array.from({ length: size }, (_, i) =>
    JSON.stringify({ batch: number, i, text: `${number}-${i}-${'x'.repeat(300)}` }),
  );
  const started = performance.now();
  const response = await fetch(`${url}/v1/events?logType=Custom.Fault`, {
    method: 'POST',
    headers: {
      ...bearer(),
      'content-type': 'application/x-ndjson',
      'idempotency-key': `batch-${number}`,
    },
    body: lines.join('\n'),
    // A bound on the wait, not a measure: a request that never ends fails the test.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  const body = (text.startsWith('{') ? JSON.parse(text) : {}) as { code?: string };
  return {
    number,
    status: response.status,
    code: body.code,
    retryAfter: response.headers.get('retry-after'),
    ms: performance.now() - started,
  };
}

async function get(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Asks /readyz until it answers `status` (at most `attempts` times, a quarter second apart). */
async function readyzBecomes(url: string, status: number, attempts = 240): Promise<Record<string, unknown>> {
  let last: { status: number; body: Record<string, unknown> } | undefined;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    last = await get(url, '/readyz');
    if (last.status === status) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`/readyz never answered ${status}; last: ${JSON.stringify(last)}`);
}

/** The promise of a 2xx, checked against what the database holds. */
function expectExactlyTheAcknowledged(
  results: readonly BatchResult[],
  stored: ReadonlyMap<string, number>,
  size: number,
): void {
  for (const result of results) {
    const hits = stored.get(`batch-${result.number}`);
    if (result.status === 200) expect(hits, `batch ${result.number} was acknowledged`).toBe(size);
    else expect(hits, `batch ${result.number} was refused with ${result.status}`).toBeUndefined();
  }
}

function storedInSqlite(file: string): Map<string, number> {
  const database = new BetterSqlite3(file, { readonly: true });
  try {
    const rows = database.prepare(STORED_PER_BATCH).all() as { key: string; hits: number }[];
    return new Map(rows.map((row) => [row.key, row.hits]));
  } finally {
    database.close();
  }
}

async function storedInPostgres(url: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; hits: number }>(STORED_PER_BATCH);
    return new Map(rows.map((row) => [row.key, row.hits]));
  } finally {
    await client.end();
  }
}

/** A refusal as a database fault is answered: a 5xx problem with its code and Retry-After. */
function expectRetryLater(result: BatchResult, status: number, code: string): void {
  expect(result, `batch ${result.number}`).toMatchObject({ status, code });
  expect(result.retryAfter).toMatch(/^\d+$/);
}

/**
 * Streams numbered batches one after another, from `first` on, until stopped. A request that gets no
 * answer at all (the server is gone) ends the stream.
 */
function streamBatches(url: string, size: number, first = 1) {
  const results: BatchResult[] = [];
  let stopped = false;
  let ended = false;
  /** Set while the stream is held between two batches; `parked` is called once it waits there. */
  let holding: Promise<void> | undefined;
  let parked: (() => void) | undefined;
  // Read through a function: `stop` sets it while the loop awaits.
  const isStopped = () => stopped;
  const done = (async () => {
    try {
      for (let number = first; !isStopped(); number += 1) {
        while (holding) {
          const hold = holding;
          parked?.();
          await hold;
        }
        if (isStopped()) break;
        results.push(await sendBatch(url, number, size));
      }
    } catch {
      // No answer: the server is gone.
    } finally {
      ended = true;
    }
  })();
  return {
    results,
    /** Waits until `predicate` holds for the results so far (looked at between batches). */
    async until(predicate: (results: readonly BatchResult[]) => boolean): Promise<void> {
      while (!predicate(results)) {
        if (ended) throw new Error(`the stream ended after ${results.length} batches`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    /** Does `fault` while no batch is in flight: the batch on the wire finishes first, the next waits. */
    async between(fault: () => Promise<void> | void): Promise<void> {
      let release!: () => void;
      holding = new Promise((resolve) => (release = resolve));
      await new Promise<void>((resolve, reject) => {
        parked = resolve;
        if (ended) reject(new Error('the stream has ended'));
      });
      try {
        await fault();
      } finally {
        holding = undefined;
        parked = undefined;
        release();
      }
    },
    async stop(): Promise<BatchResult[]> {
      stopped = true;
      await done;
      return results;
    },
  };
}

const acknowledged = (results: readonly BatchResult[]) =>
  results.filter((result) => result.status === 200).length;
const refused = (results: readonly BatchResult[]) => results.filter((result) => result.status !== 200).length;

// -----------------------------------------------------------------------------------------------------

const TMPFS_MISSING = tmpfsMissing();

describe.skipIf(TMPFS_MISSING !== undefined)(
  systemToolSuiteTitle('SQLite on a small filesystem that fills up (a 16 MB tmpfs)', TMPFS_MISSING),
  () => {
    let work: ReturnType<typeof workDirectory>;
    let mountPoint = '';

    beforeAll(() => {
      work = workDirectory();
      mountPoint = join(work.directory, 'small');
      mkdirSync(mountPoint);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], {
        encoding: 'utf8',
      });
      if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr}`);
    });

    afterAll(() => {
      spawnSync('umount', [mountPoint]);
      rmSync(work.directory, { recursive: true, force: true });
    });

    it('refuses with 507 while it is full, acknowledges only what it committed, and recovers once there is room', async () => {
      const file = join(mountPoint, 'tripline.sqlite');
      const server = await start(work.directory, { ...work.env, DATABASE_URL: `sqlite:${file}` });
      const size = 200;
      try {
        // Leave about 3 MB: a few dozen batches fit, then the disk is full.
        const { bavail, bsize } = statfsSync(mountPoint);
        const filler = join(mountPoint, 'filler');
        writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 3 * 1024 * 1024)));

        const stream = streamBatches(server.url, size);
        await stream.until((results) => refused(results) >= 5);
        const whileFull = await get(server.url, '/readyz');
        expect(whileFull.status).toBe(503);
        expect(whileFull.body.database).toBe('storage_full');
        expect((await get(server.url, '/healthz')).status).toBe(200);

        // Room again: readiness and writes come back without a restart.
        await stream.between(() => rmSync(filler));
        await readyzBecomes(server.url, 200);
        const firstAfter = stream.results.length;
        await stream.until((results) => acknowledged(results.slice(firstAfter)) >= 5);
        const results = await stream.stop();

        const refusals = results.filter((result) => result.status !== 200);
        for (const refusal of refusals) expectRetryLater(refusal, 507, 'storage_full');
        expect(acknowledged(results.slice(0, firstAfter))).toBeGreaterThan(0);
        expect(refused(results.slice(firstAfter))).toBe(0);
        report('SQLite, disk full', results);
        expect(await stop(server)).toBe(true);
        expectExactlyTheAcknowledged(results, storedInSqlite(file), size);
      } finally {
        if (server.process.exitCode === null) await kill(server);
      }
    }, 240_000);
  },
);

describe('SQLite whose write lock another process holds', () => {
  let work: ReturnType<typeof workDirectory>;

  beforeAll(() => {
    work = workDirectory();
  });

  afterAll(() => {
    rmSync(work.directory, { recursive: true, force: true });
  });

  it('waits SQLITE_BUSY_TIMEOUT_MS, then answers 503 database_busy; /readyz says so until the lock is free', async () => {
    const file = join(work.directory, 'tripline.sqlite');
    const server = await start(work.directory, {
      ...work.env,
      DATABASE_URL: `sqlite:${file}`,
      SQLITE_BUSY_TIMEOUT_MS: '300',
    });
    const results: BatchResult[] = [];
    try {
      results.push(await sendBatch(server.url, 1, 50));
      const other = new BetterSqlite3(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        const refusedBatch = await sendBatch(server.url, 2, 50);
        results.push(refusedBatch);
        expectRetryLater(refusedBatch, 503, 'database_busy');
        const readiness = await get(server.url, '/readyz');
        expect(readiness.status).toBe(503);
        expect(readiness.body.database).toBe('database_busy');
        expect((await get(server.url, '/healthz')).status).toBe(200);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      await readyzBecomes(server.url, 200);
      results.push(await sendBatch(server.url, 3, 50));
      report('SQLite, write lock held by another process', results);
      expect(results.map((result) => result.status)).toEqual([200, 503, 200]);
      expect(await stop(server)).toBe(true);
      expectExactlyTheAcknowledged(results, storedInSqlite(file), 50);
    } finally {
      if (server.process.exitCode === null) await kill(server);
    }
  }, 120_000);
});

const POSTGRES_MISSING = privatePostgresMissing();

describe.skipIf(POSTGRES_MISSING !== undefined)(
  systemToolSuiteTitle(
    'PostgreSQL (a server of the test’s own) stopped, restarted and frozen',
    POSTGRES_MISSING,
  ),
  () => {
    let work: ReturnType<typeof workDirectory>;
    let postgres: PrivatePostgres;
    /** Short bounds, so that a frozen server is noticed in seconds. */
    const timeouts = {
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      DATABASE_LOCK_TIMEOUT_MS: '1000',
    };

    beforeAll(async () => {
      work = workDirectory();
      postgres = await PrivatePostgres.create();
    });

    afterAll(async () => {
      await postgres.remove();
      rmSync(work.directory, { recursive: true, force: true });
    });

    async function newServer(database: string): Promise<{ server: Server; url: string }> {
      const admin = new pg.Client({ connectionString: postgres.url() });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      await admin.end();
      const url = postgres.url(database);
      return { server: await start(work.directory, { ...work.env, ...timeouts, DATABASE_URL: url }), url };
    }

    it('stopped mid-stream: refuses with 503 while it is down, and takes batches again once it is back', async () => {
      const { server, url } = await newServer('stopped');
      const size = 100;
      try {
        const stream = streamBatches(server.url, size);
        await stream.until((results) => acknowledged(results) >= 3);
        // Stopped while batches keep coming: the one in flight is either committed and acknowledged,
        // or refused and rolled back.
        await postgres.stop();
        await stream.until((results) => refused(results) >= 3);
        const whileDown = await get(server.url, '/readyz');
        expect(whileDown.status).toBe(503);
        expect(whileDown.body.database).toBe('database_unavailable');
        expect((await get(server.url, '/healthz')).status).toBe(200);

        await postgres.start();
        await readyzBecomes(server.url, 200);
        const firstAfter = stream.results.length;
        await stream.until((results) => acknowledged(results.slice(firstAfter)) >= 3);
        const results = await stream.stop();
        report('PostgreSQL stopped and restarted', results);
        for (const refusal of results.filter((result) => result.status !== 200))
          expectRetryLater(refusal, 503, 'database_unavailable');
        expect(await stop(server)).toBe(true);
        expectExactlyTheAcknowledged(results, await storedInPostgres(url), size);
      } finally {
        if (server.process.exitCode === null) await kill(server);
      }
    }, 240_000);

    it('frozen (SIGSTOP): requests and /readyz answer 503 in bounded time; after SIGCONT it works again', async () => {
      const { server, url } = await newServer('frozen');
      const size = 100;
      try {
        const stream = streamBatches(server.url, size);
        await stream.until((results) => acknowledged(results) >= 3);
        // Frozen between two batches: a batch whose COMMIT was sent but never answered could not be told
        // apart from one the server never took, by any client.
        await stream.between(() => postgres.freeze());
        await stream.until((results) => refused(results) >= 2);
        const readyzStarted = performance.now();
        const whileFrozen = await get(server.url, '/readyz');
        console.log(
          `PostgreSQL frozen: /readyz answered ${whileFrozen.status} in ${Math.round(performance.now() - readyzStarted)} ms`,
        );
        expect(whileFrozen.status).toBe(503);
        expect((await get(server.url, '/healthz')).status).toBe(200);

        await stream.between(() => postgres.thaw());
        await readyzBecomes(server.url, 200);
        const firstAfter = stream.results.length;
        await stream.until((results) => acknowledged(results.slice(firstAfter)) >= 3);
        const results = await stream.stop();
        report('PostgreSQL frozen', results);
        for (const refusal of results.filter((result) => result.status !== 200)) {
          expect(refusal.status).toBe(503);
          expect(['database_unavailable', 'database_busy']).toContain(refusal.code);
          expect(refusal.retryAfter).toMatch(/^\d+$/);
        }
        expect(await stop(server)).toBe(true);
        expectExactlyTheAcknowledged(results, await storedInPostgres(url), size);
      } finally {
        if (server.process.exitCode === null) await kill(server);
      }
    }, 240_000);
  },
);

describe.each(['sqlite', 'postgres'] as const)('the server killed (SIGKILL) mid-ingest on %s', (kind) => {
  let work: ReturnType<typeof workDirectory>;
  let databaseUrl = '';

  beforeAll(async () => {
    work = workDirectory();
    databaseUrl =
      kind === 'sqlite' ? `sqlite:${join(work.directory, 'tripline.sqlite')}` : await newDatabase('postgres');
  });

  afterAll(async () => {
    if (kind === 'postgres') await removeDatabase({ databaseUrl });
    rmSync(work.directory, { recursive: true, force: true });
  });

  it('loses no acknowledged batch and leaves no half batch', async () => {
    const env = { ...work.env, DATABASE_URL: databaseUrl };
    const server = await start(work.directory, env);
    const size = 300;
    // Four clients, so that several batches are on the wire when the process dies.
    const streams = [0, 1, 2, 3].map((client) => streamBatches(server.url, size, client * 100_000 + 1));
    const all = () => streams.flatMap((stream) => stream.results);
    while (acknowledged(all()) < 15) await new Promise((resolve) => setTimeout(resolve, 20));
    await kill(server);
    const results = (await Promise.all(streams.map((stream) => stream.stop()))).flat();
    expect(acknowledged(results)).toBeGreaterThanOrEqual(15);
    report(`SIGKILL mid-ingest on ${kind}`, results);

    const restarted = await start(work.directory, env);
    try {
      expect((await get(restarted.url, '/readyz')).status).toBe(200);
    } finally {
      await stop(restarted);
    }
    const stored =
      kind === 'sqlite'
        ? storedInSqlite(databaseUrl.slice('sqlite:'.length))
        : await storedInPostgres(databaseUrl);
    // A batch cut off by the kill has no answer: it may have been committed in full, never in part.
    for (const result of results.filter((result) => result.status === 200))
      expect(stored.get(`batch-${result.number}`)).toBe(size);
    for (const hits of stored.values()) expect(hits).toBe(size);
  }, 120_000);
});
