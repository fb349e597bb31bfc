// The Database's promise at the driver level, without mounts: a unit of work that returns has been
// committed. SQLite's max_page_count makes the file "full" on demand, so SQLITE_FULL comes from the real
// driver in the real places (mid-transaction and at COMMIT), and what each answer claimed is checked
// against what a second connection reads.
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../common/errors.js';
import { loadConfig } from '../config/config.js';
import { Database } from './database.service.js';
import { sqliteConnectionOf } from './sqlite-transactions.js';
import { openDataSource } from './storage.module.js';

describe('Database on SQLite: a unit of work that returns is committed', () => {
  let directory: string;
  let file: string;
  let database: Database;
  let opened = false;

  /** Opens the service on the test's file; `busyTimeoutMs` is how long a write waits for another process. */
  async function open(busyTimeoutMs = 60_000): Promise<void> {
    if (opened && database.dataSource.isInitialized) await database.dataSource.destroy();
    opened = true;
    const config = loadConfig({
      DATABASE_URL: `sqlite:${file}`,
      SQLITE_BUSY_TIMEOUT_MS: String(busyTimeoutMs),
    });
    database = new Database(await openDataSource(config), config);
  }

  beforeEach(async () => {
    opened = false;
    directory = mkdtempSync(join(tmpdir(), 'tripline-db-'));
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

  /** Rows a separate connection sees: only what was committed. */
  function committedBatches(): number[] {
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      return (
        reader.prepare('SELECT "received" FROM "ingest_batches" ORDER BY "id"').all() as {
          received: number;
        }[]
      ).map((row) => row.received);
    } finally {
      reader.close();
    }
  }

  /** One unit of work that writes a batch row holding `marker` and about `bytes` of padding. */
  const writeBatch = (marker: number, bytes = 0) =>
    database.write(async (manager) => {
      await manager.query(
        `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened", "idempotency_key") VALUES ('2026-01-01 00:00:00.000', ?, 0, 0, 0, 0, ?)`,
        [marker, bytes > 0 ? 'x'.repeat(bytes) : null],
      );
    });

  it('answers a full file with 507 storage_full, commits every later write once there is room, and says so in readiness', async () => {
    await writeBatch(1);
    const pages = connection().pragma('page_count', { simple: true }) as number;
    // Room for a few small rows, then SQLite refuses to grow the file.
    connection().pragma(`max_page_count = ${pages + 2}`);
    const answers: { marker: number; outcome: 'committed' | number }[] = [];
    for (let marker = 2; marker <= 40; marker += 1) {
      try {
        await writeBatch(marker, 3000);
        answers.push({ marker, outcome: 'committed' });
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe('storage_full');
        expect((error as DomainError).headers['retry-after']).toMatch(/^\d+$/);
        answers.push({ marker, outcome: (error as DomainError).status });
      }
      // Whatever the driver did, the connection is never left inside a transaction.
      expect(connection().inTransaction).toBe(false);
    }
    const refused = answers.filter((answer) => answer.outcome !== 'committed');
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((answer) => answer.outcome))).toEqual(new Set([507]));
    expect(await database.readiness()).toMatchObject({ ready: false, code: 'storage_full' });

    // Room again (the file may grow; the disk did not fill here, so readiness waits for a write): writes
    // commit without a restart, and readiness follows.
    connection().pragma('max_page_count = 1073741823');
    for (let marker = 41; marker <= 45; marker += 1) {
      await writeBatch(marker, 3000);
      answers.push({ marker, outcome: 'committed' });
    }
    expect(await database.readiness()).toEqual({ ready: true });
    const committed = answers
      .filter((answer) => answer.outcome === 'committed')
      .map((answer) => answer.marker);
    // Every write that returned is there, and no refused one is.
    expect(committedBatches()).toEqual([1, ...committed]);
  });

  it('a connection left inside a transaction behind its back is rolled back before the next unit of work', async () => {
    await writeBatch(1);
    connection().exec('BEGIN');
    connection().exec(
      `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened") VALUES ('2026-01-01 00:00:00.000', 99, 0, 0, 0, 0)`,
    );
    await writeBatch(2);
    expect(connection().inTransaction).toBe(false);
    expect(committedBatches()).toEqual([1, 2]);
  });

  it('a write waits for another process holding the write lock, then answers 503 database_busy; readiness follows', async () => {
    await open(100);
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const refused = await writeBatch(1).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DomainError);
      expect(refused).toMatchObject({ status: 503, code: 'database_busy' });
      expect((refused as DomainError).headers['retry-after']).toMatch(/^\d+$/);
      expect(await database.readiness()).toMatchObject({ ready: false, code: 'database_busy' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await database.readiness()).toEqual({ ready: true });
    await writeBatch(2);
    expect(committedBatches()).toEqual([2]);
  });

  it('a unit of work that reads before it writes still waits for the lock rather than failing at once', async () => {
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    // Released while the write waits (for up to a minute): it must then go through, although it read first.
    const released = new Promise<void>((resolve) =>
      setImmediate(() => {
        other.exec('COMMIT');
        other.close();
        resolve();
      }),
    );
    await database.write(async (manager) => {
      await manager.query('SELECT COUNT(*) FROM "ingest_batches"');
      await manager.query(
        `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened") VALUES ('2026-01-01 00:00:00.000', 7, 0, 0, 0, 0)`,
      );
    });
    await released;
    expect(committedBatches()).toEqual([7]);
  });
});
