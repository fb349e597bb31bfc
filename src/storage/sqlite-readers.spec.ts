// Reads on an SQLite file do not wait for writes: a write held open (awaiting a promise the test controls)
// leaves reads free to answer with the last committed state, and once the write has returned a read sees
// it. No timing: only what each read returns, and in which order the units of work end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '../common/errors.js';
import { loadConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source.js';
import { Database } from './database.service.js';
import { openSqliteReader, type SqliteReader } from './sqlite-readers.js';
import { openDataSource } from './storage.module.js';

/** A promise the test resolves when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const insertBatch = (manager: EntityManager, marker: number) =>
  manager.query(
    `INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened") VALUES ('2026-01-01 00:00:00.000', ?, 0, 0, 0, 0)`,
    [marker],
  );

const markers = async (manager: EntityManager): Promise<number[]> =>
  (await manager.query<{ received: number }[]>('SELECT "received" FROM "ingest_batches" ORDER BY "id"')).map(
    (row) => row.received,
  );

describe('Database on an SQLite file: reads beside writes', () => {
  let directory: string;
  let file: string;
  let database: Database;
  let reader: SqliteReader | null;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tripline-reads-'));
    file = join(directory, 'tripline.sqlite');
    const config = loadConfig({ DATABASE_URL: `sqlite:${file}`, SQLITE_BUSY_TIMEOUT_MS: '100' });
    const dataSource = await openDataSource(config);
    reader = await openSqliteReader(config);
    database = new Database(dataSource, config, reader);
  });

  afterEach(async () => {
    await reader?.onApplicationShutdown();
    if (database.dataSource.isInitialized) await database.dataSource.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  it('a write held open does not stop a read, which sees the state before it; once the write returns, a read sees it', async () => {
    await database.write((manager) => insertBatch(manager, 1));
    const held = gate();
    const inserted = gate();
    const write = database.write(async (manager) => {
      await insertBatch(manager, 2);
      inserted.open();
      await held.opened;
    });
    await inserted.opened;

    // The write has inserted and is still open: the read answers all the same, with what was committed.
    expect(await database.read(markers)).toEqual([1]);

    held.open();
    await write;
    expect(await database.read(markers)).toEqual([1, 2]);
  });

  it('every statement of one read sees the same snapshot, even when a write commits between them', async () => {
    await database.write((manager) => insertBatch(manager, 1));
    const between = gate();
    const read = database.read(async (manager) => {
      const first = await markers(manager);
      await between.opened;
      return { first, second: await markers(manager) };
    });
    // Resolves only after the read's first statement, so the write commits between its two statements.
    await database.write((manager) => insertBatch(manager, 2));
    between.open();
    expect(await read).toEqual({ first: [1], second: [1] });
    expect(await database.read(markers)).toEqual([1, 2]);
  });

  it('a read cannot change the database', async () => {
    await database.write((manager) => insertBatch(manager, 1));
    const refused = await database
      .read((manager) => insertBatch(manager, 2))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    // A mistake in the code, not a fault of the database: no 5xx problem that says the file is read-only.
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(DomainError);
    expect((refused as Error).message).toMatch(/a read tried to change the database/);
    expect(await database.read(markers)).toEqual([1]);
    // The reader's transaction was ended: the next read and write go through.
    await database.write((manager) => insertBatch(manager, 3));
    expect(await database.read(markers)).toEqual([1, 3]);
  });

  it('a storage fault met by a read is answered as before (503 with Retry-After), and reads go on after', async () => {
    await database.write((manager) => insertBatch(manager, 1));
    // What better-sqlite3 throws when a lock is not granted in time, thrown from inside a read.
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const refused = await database
      .read(async (manager) => {
        await markers(manager);
        throw busy;
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ status: 503, code: 'database_busy' });
    expect((refused as DomainError).headers['retry-after']).toMatch(/^\d+$/);
    expect(await database.read(markers)).toEqual([1]);
  });
});

describe('Database in memory: reads wait in the writers’ queue', () => {
  it('a read waits for the write held open, then sees it', async () => {
    const config = loadConfig({ DATABASE_URL: 'sqlite::memory:' });
    expect(await openSqliteReader(config)).toBeNull();
    // Migrated on the connection itself: another connection to `:memory:` is another database.
    const dataSource = await new DataSource(dataSourceOptions(config)).initialize();
    await dataSource.runMigrations();
    const database = new Database(dataSource, config);
    try {
      const held = gate();
      const ended: string[] = [];
      const write = database.write(async (manager) => {
        await insertBatch(manager, 1);
        await held.opened;
        ended.push('write');
      });
      const read = database.read(markers).then((found) => {
        ended.push('read');
        return found;
      });
      held.open();
      expect(await read).toEqual([1]);
      await write;
      expect(ended).toEqual(['write', 'read']);
    } finally {
      await database.dataSource.destroy();
    }
  });
});
