// Group commit on a real SQLite file, through the ingest service and its database store: batches sent
// together share transactions, each still gets its own answer, retry dedup and Idempotency-Keys stay
// exact inside a group, and one failing member leaves the others committed and itself not at all.
// What each test claims is checked against what a second connection reads.
import { Logger } from '@nestjs/common';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { ConflictError } from '../common/errors.js';
import { loadConfig } from '../config/config.js';
import { EvaluationPool } from '../ingest/evaluation-pool.js';
import { IngestService, type IngestRequest } from '../ingest/ingest.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ActiveRuleSet } from '../rules/active-rule-set.service.js';
import { RulesService } from '../rules/rules.service.js';
import { PythonChecks } from '../rules/python-checks.js';
import { CommitUnconfirmedError } from './database-faults.js';
import { Database } from './database.service.js';
import { sqliteConnectionOf } from './sqlite-transactions.js';
import { GroupCommit } from './group-commit.js';
import { openIngestStore } from './ingest.repository.js';
import { openRuleStore } from './rules.repository.js';
import { openDataSource } from './storage.module.js';

const DELETE_TRAIL = `AnalysisType: rule
RuleID: Test.DeleteTrail
LogTypes: [AWS.CloudTrail]
Severity: High
Condition: eventName eq "DeleteTrail"
Tests:
  - Name: delete
    ExpectedResult: true
    Log: { eventSource: cloudtrail.amazonaws.com, eventName: DeleteTrail, userIdentity: { type: Root } }
`;

/** A CloudTrail call; DeleteTrail is a hit. */
const call = (eventID: string, eventName = 'DeleteTrail') => ({
  eventVersion: '1.08',
  eventTime: '2026-11-30T10:00:00Z',
  eventSource: 'cloudtrail.amazonaws.com',
  eventName,
  eventID,
  userIdentity: { type: 'Root', accountId: '111122223333' },
  recipientAccountId: '111122223333',
});

function request(events: unknown[], idempotencyKey?: string): IngestRequest {
  return {
    body: Readable.from([Buffer.from(events.map((event) => JSON.stringify(event)).join('\n'))]),
    contentType: 'application/x-ndjson',
    contentEncoding: undefined,
    logType: undefined,
    idempotencyKey,
  };
}

describe('group commit on SQLite: concurrent ingest writes share COMMITs, each answered as its own', () => {
  let directory: string;
  let file: string;
  let database: Database;
  let opened = false;
  let ingest: IngestService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  /** Opens the service on the test's file; `busyTimeoutMs` is how long a write waits for another process. */
  async function open(busyTimeoutMs = 60_000): Promise<void> {
    if (opened && database.dataSource.isInitialized) await database.dataSource.destroy();
    opened = true;
    const config = loadConfig({
      DATABASE_URL: `sqlite:${file}`,
      SQLITE_BUSY_TIMEOUT_MS: String(busyTimeoutMs),
    });
    database = new Database(await openDataSource(config), config);
    const ruleStore = openRuleStore(database);
    const active = new ActiveRuleSet(ruleStore, config);
    await new RulesService(ruleStore, active, new PythonChecks(config)).upsert(DELETE_TRAIL, {
      format: 'yaml',
      ignoreExtraKeys: false,
      storeDisabled: false,
      origin: 'api',
      actor: SYSTEM_ACTOR,
    });
    const metrics = new MetricsService(() => ({ total: 1, idle: 1, waiting: 0 }));
    ingest = new IngestService(
      config,
      openIngestStore(database),
      active,
      metrics,
      new EvaluationPool(config, active),
    );
  }

  beforeEach(async () => {
    opened = false;
    directory = mkdtempSync(join(tmpdir(), 'tripline-group-'));
    file = join(directory, 'tripline.sqlite');
    await open();
  });

  afterEach(async () => {
    // The checkpoint thread first: it holds a connection to the file the test removes.
    await database.onApplicationShutdown();
    if (database.dataSource.isInitialized) await database.dataSource.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  /** The raw better-sqlite3 handle the service writes through. */
  const connection = () => sqliteConnectionOf(database.dataSource);

  /** What a separate connection sees: only what was committed. */
  function committed<Row>(sql: string): Row[] {
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      return reader.prepare(sql).all() as Row[];
    } finally {
      reader.close();
    }
  }

  /** COMMITs issued on the service's connection while `work` runs. */
  async function countingCommits<T>(work: () => Promise<T>): Promise<{ result: T; commits: number }> {
    const exec = vi.spyOn(connection(), 'exec');
    try {
      const result = await work();
      return { result, commits: exec.mock.calls.filter(([sql]) => sql === 'COMMIT').length };
    } finally {
      exec.mockRestore();
    }
  }

  it('commits N concurrent batches in fewer transactions than batches, each with its own batch, counts and hits', async () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8];
    const { result: answers, commits } = await countingCommits(() =>
      Promise.all(
        sizes.map((size, batch) =>
          ingest.ingest(
            request(
              Array.from({ length: size }, (_, index) =>
                call(`b${batch}-e${index}`, index === 0 ? 'DeleteTrail' : 'ListTrails'),
              ),
            ),
          ),
        ),
      ),
    );
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(sizes.length);
    expect(database.groupCommitCounts.members).toBe(sizes.length);
    answers.forEach((answer, batch) => {
      expect(answer).toMatchObject({
        received: sizes[batch],
        accepted: sizes[batch],
        hits: 1,
        replayed: false,
      });
    });
    expect(new Set(answers.map((answer) => answer.batchId)).size).toBe(sizes.length);
    // Each answer's batch id is the row holding its own counts, and its hit is its own event.
    const batches = committed<{ id: number; received: number; hits: number }>(
      'SELECT "id", "received", "hits" FROM "ingest_batches"',
    );
    const hits = committed<{ batch_id: number; event_id: string }>(
      'SELECT "batch_id", "event_id" FROM "hits"',
    );
    answers.forEach((answer, batch) => {
      expect(batches.find((row) => row.id === answer.batchId)).toEqual({
        id: answer.batchId,
        received: sizes[batch],
        hits: 1,
      });
      expect(hits.filter((hit) => hit.batch_id === answer.batchId).map((hit) => hit.event_id)).toEqual([
        `b${batch}-e0`,
      ]);
    });
  });

  it('stores an event two batches of one group both carry once: the other batch counts it a duplicate', async () => {
    const { result: answers, commits } = await countingCommits(() =>
      Promise.all([ingest.ingest(request([call('same')])), ingest.ingest(request([call('same')]))]),
    );
    expect(commits).toBe(1);
    expect(answers.map((answer) => [answer.hits, answer.duplicateHits])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(committed('SELECT "id" FROM "hits"')).toHaveLength(1);
  });

  it('answers the second request of a group with an Idempotency-Key the first used with the first answer', async () => {
    const events = [call('once')];
    const { result: answers, commits } = await countingCommits(() =>
      Promise.all([ingest.ingest(request(events, 'key-1')), ingest.ingest(request(events, 'key-1'))]),
    );
    expect(commits).toBe(1);
    expect(answers[0].replayed).toBe(false);
    expect(answers[1]).toEqual({ ...answers[0], replayed: true });
    expect(committed('SELECT "id" FROM "ingest_batches"')).toHaveLength(1);
    expect(committed('SELECT "id" FROM "hits"')).toHaveLength(1);
  });

  /** A grouped unit of work that writes a batch row holding `marker` and about `bytes` of padding. */
  const insert = (marker: number, bytes = 0, fails = false) =>
    database.writeGrouped(async (manager) => {
      await manager.query(
        `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened", "idempotency_key") VALUES ('2026-01-01 00:00:00.000', ?, 0, 0, 0, 0, ?)`,
        [marker, bytes > 0 ? 'x'.repeat(bytes) : null],
      );
      if (fails) throw new Error(`member ${marker} fails after its insert`);
      return marker;
    });

  const committedMarkers = () =>
    committed<{ received: number }>('SELECT "received" FROM "ingest_batches" ORDER BY "received"').map(
      (row) => row.received,
    );

  it('lets the event loop take a turn between the members of a group, so that other requests are not held for all of it', async () => {
    const order: string[] = [];
    const member = (marker: number) =>
      database.writeGrouped(async (manager) => {
        order.push(`member ${marker}`);
        // What another request would do meanwhile, e.g. a read of hits arriving on its socket.
        if (marker === 1) setImmediate(() => order.push('a turn of the event loop'));
        await manager.query(
          `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened") VALUES ('2026-01-01 00:00:00.000', ?, 0, 0, 0, 0)`,
          [marker],
        );
      });
    const { commits } = await countingCommits(() => Promise.all([member(1), member(2)]));
    expect(commits).toBe(1);
    expect(order).toEqual(['member 1', 'a turn of the event loop', 'member 2']);
    expect(committedMarkers()).toEqual([1, 2]);
  });

  it('commits the other members of a group when one fails, and nothing of the one that failed', async () => {
    const outcomes = await Promise.allSettled([insert(1), insert(2, 0, true), insert(3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
      message: 'member 2 fails after its insert',
    });
    expect(database.groupCommitCounts).toMatchObject({ retriedGroups: 1, members: 2 });
    expect(committedMarkers()).toEqual([1, 3]);
    expect(connection().inTransaction).toBe(false);
  });

  it('on a file too full for the whole group, commits the members that fit alone and refuses the rest with 507', async () => {
    await insert(1);
    const pages = connection().pragma('page_count', { simple: true }) as number;
    connection().pragma(`max_page_count = ${pages + 3}`);
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((index) => insert(1 + index, 3000)));
    expect(database.groupCommitCounts.retriedGroups).toBe(1);
    const stored = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [2 + index] : []));
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(stored.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const outcome of refused)
      expect(outcome.reason).toMatchObject({ status: 507, code: 'storage_full' });
    // Exactly what was acknowledged is there.
    expect(committedMarkers()).toEqual([1, ...stored]);
    expect(connection().inTransaction).toBe(false);
  });

  it('refuses a whole group with 503 database_busy, without running its members again, when another process keeps the write lock', async () => {
    await open(100);
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const outcomes = await Promise.allSettled([insert(1), insert(2), insert(3)]);
      for (const outcome of outcomes)
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({
          status: 503,
          code: 'database_busy',
        });
      expect(database.groupCommitCounts).toEqual({ commits: 0, members: 0, retriedGroups: 0 });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await insert(4)).toBe(4);
    expect(committedMarkers()).toEqual([4]);
  });

  it('answers a reused Idempotency-Key in a group with 409 and still stores the group’s other batches', async () => {
    await ingest.ingest(request([call('first')], 'key-2'));
    const outcomes = await Promise.allSettled([
      ingest.ingest(request([call('a')])),
      ingest.ingest(request([call('different')], 'key-2')),
      ingest.ingest(request([call('b')])),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(database.groupCommitCounts.retriedGroups).toBe(1);
    expect(
      committed<{ event_id: string }>('SELECT "event_id" FROM "hits" ORDER BY "event_id"').map(
        (row) => row.event_id,
      ),
    ).toEqual(['a', 'b', 'first']);
  });
});

describe('GroupCommit, when the disk does not confirm a commit', () => {
  it('answers every member with that error and never runs the group again (it is stored)', async () => {
    const unconfirmed = new CommitUnconfirmedError('EIO: i/o error');
    let runs = 0;
    const group = new GroupCommit({
      transaction: async (work) => {
        await work({} as EntityManager);
        throw unconfirmed;
      },
      serialize: (job) => void job(),
      committed: () => undefined,
      failed: (error) => error,
    });
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() =>
        group.add(async () => {
          runs += 1;
          return Promise.resolve();
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBe(unconfirmed);
    expect(runs).toBe(3);
    expect(group.counts).toEqual({ commits: 0, members: 0, retriedGroups: 0 });
  });
});
