// A write on an SQLite file returns only once its commit is on disk, synced off the event loop: the
// connection commits with synchronous=NORMAL (WAL) and the WAL file is fdatasynced before the unit of
// work returns. The file system calls are watched (and held, or failed, on demand) through node:fs/promises;
// the database is real.
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/config.js';
import { CommitUnconfirmedError } from './database-faults.js';
import { Database } from './database.service.js';
import { sqliteConnectionOf } from './sqlite-transactions.js';
import { openDataSource } from './storage.module.js';

/** What the code under test asked of the file system, and a hook to hold or fail a sync. */
const fileSystem = vi.hoisted(() => ({
  calls: [] as string[],
  beforeSync: undefined as undefined | ((path: string) => Promise<void>),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof actual.open>): Promise<FileHandle> => {
    const handle = await actual.open(...args);
    const path = String(args[0]);
    const watched = (name: 'datasync' | 'sync') => async () => {
      fileSystem.calls.push(`${name} ${path}`);
      await fileSystem.beforeSync?.(path);
      return handle[name]();
    };
    return Object.assign(Object.create(handle) as FileHandle, {
      datasync: watched('datasync'),
      sync: watched('sync'),
      close: () => handle.close(),
    });
  };
  return { ...actual, open, default: { ...actual, open } };
});

const insertBatch = (manager: EntityManager) =>
  manager.query(
    `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened") VALUES ('2026-01-01 00:00:00.000', 1, 1, 0, 0, 0)`,
  );

const connectionOf = (database: Database) => sqliteConnectionOf(database.dataSource);

describe('SQLite writes: a commit is synced before the unit of work returns', () => {
  let directory: string;
  let database: Database | undefined;

  async function open(path: string): Promise<Database> {
    const config = loadConfig({ DATABASE_URL: `sqlite:${path}` });
    database = new Database(await openDataSource(config), config);
    return database;
  }

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'tripline-sync-'));
    fileSystem.calls.length = 0;
    fileSystem.beforeSync = undefined;
  });

  afterEach(async () => {
    // The checkpoint thread first, whether or not the test got as far as stopping it.
    await database?.onApplicationShutdown();
    if (database?.dataSource.isInitialized) await database.dataSource.destroy();
    database = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  it('on a WAL file, commits with synchronous=NORMAL and fdatasyncs the WAL (its folder once) before returning', async () => {
    const file = join(directory, 'tripline.sqlite');
    const db = await open(file);
    let sync: () => void = () => undefined;
    let walSyncStarted: () => void = () => undefined;
    const walSyncReached = new Promise<void>((resolve) => (walSyncStarted = resolve));
    fileSystem.beforeSync = (path) => {
      if (path !== `${file}-wal`) return Promise.resolve();
      walSyncStarted();
      return new Promise<void>((resolve) => (sync = resolve));
    };
    let returned = false;
    const write = db.write(insertBatch).then(() => (returned = true));
    await walSyncReached;
    expect(fileSystem.calls).toContain(`datasync ${file}-wal`);
    // Committed (another connection sees it), but the write has not returned: its sync is still held.
    const other = new BetterSqlite3(file, { readonly: true });
    try {
      expect(other.prepare('SELECT COUNT(*) AS n FROM "ingest_batches"').get()).toEqual({ n: 1 });
    } finally {
      other.close();
    }
    expect(returned).toBe(false);
    sync();
    await write;
    expect(fileSystem.calls).toEqual([`datasync ${file}-wal`, `sync ${directory}`]);
    expect(connectionOf(db).pragma('synchronous', { simple: true })).toBe(1);
    // Statement journals (a multi-row INSERT's undo) in memory, not in temporary files: 2 is MEMORY.
    expect(connectionOf(db).pragma('temp_store', { simple: true })).toBe(2);

    fileSystem.beforeSync = undefined;
    await db.write(insertBatch);
    expect(fileSystem.calls).toEqual([`datasync ${file}-wal`, `sync ${directory}`, `datasync ${file}-wal`]);
  });

  it('copies the WAL into the database file on a thread of its own; COMMIT leaves it to that thread', async () => {
    const file = join(directory, 'tripline.sqlite');
    const db = await open(file);
    const padding = 'x'.repeat(64 * 1024);
    const insertPadded = (manager: EntityManager) =>
      manager.query(
        `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened", "idempotency_key") VALUES ('2026-01-01 00:00:00.000', 1, 1, 0, 0, 0, ?)`,
        [padding],
      );
    const before = statSync(file).size;
    for (let row = 0; row < 32; row++) await db.write(insertPadded);
    // SQLite's own checkpoint would run in the COMMIT that crosses 1,000 pages; it is a backstop now.
    expect(connectionOf(db).pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    // A commit after the checkpoint interval asks the thread for one; it copies the WAL in.
    await vi.waitFor(
      async () => {
        await db.write(insertPadded);
        expect(statSync(file).size).toBeGreaterThan(before + 2 * 1024 * 1024);
      },
      { timeout: 20_000, interval: 100 },
    );
    await db.onApplicationShutdown();
  });

  it('a sync that fails fails the write, which does not claim that nothing was stored', async () => {
    const file = join(directory, 'tripline.sqlite');
    const db = await open(file);
    fileSystem.beforeSync = () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const failure = db.write(insertBatch);
    await expect(failure).rejects.toBeInstanceOf(CommitUnconfirmedError);
    await expect(failure).rejects.toMatchObject({
      status: 503,
      code: 'commit_unconfirmed',
      headers: { 'retry-after': '5' },
    });
    await expect(failure).rejects.toThrow(/EIO: i\/o error\).*may or may not survive.*Idempotency-Key/);
    fileSystem.beforeSync = undefined;
    await db.write(insertBatch);
  });

  it('in memory, SQLite keeps syncing in COMMIT itself (synchronous=FULL), and nothing else is synced', async () => {
    const db = await open(':memory:');
    // The migrations ran on a connection of their own (another database, in memory): a table of its own.
    await db.write((manager) => manager.query('CREATE TABLE "written" ("x" integer)'));
    expect(connectionOf(db).pragma('synchronous', { simple: true })).toBe(2);
    expect(fileSystem.calls).toEqual([]);
  });
});
