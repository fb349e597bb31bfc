// Write transactions on SQLite's one connection, run here rather than by TypeORM, because a 2xx must
// mean committed whatever the driver does:
// - SQLite may roll a transaction back by itself (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY). TypeORM's own
//   ROLLBACK then fails and its shared query runner stays "in a transaction", so every later unit of work
//   became a SAVEPOINT inside a transaction nobody commits. Here the connection's real state is checked
//   (better-sqlite3's `inTransaction`) before and after every unit of work, and a transaction found open
//   is rolled back.
// - BEGIN IMMEDIATE takes the write lock first. A deferred transaction that has read cannot wait for the
//   lock later (SQLite answers SQLITE_BUSY at once); this one waits, without blocking the event loop:
//   SQLite's own busy handler sleeps on the main thread, so the wait is done here with timers.
// - A commit is synced to disk before `run` returns, but not by SQLite: with synchronous=FULL its COMMIT
//   blocks the event loop for the whole fsync (milliseconds, tens on a busy disk), and every request
//   waits with it. On a WAL file the connection runs with synchronous=NORMAL (SQLite keeps the file
//   consistent, a COMMIT only writes the WAL) and `run` then fdatasyncs the WAL on libuv's thread pool:
//   the same frames reach the disk before the unit of work returns, while the event loop goes on.
//   Other requests may read a commit during its sync; what a 2xx promises (survives a power cut) holds.
import { Logger } from '@nestjs/common';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { CommitUnconfirmedError } from './database-faults.js';

/** TypeORM's record of its runner's transaction, set to match the transaction opened here. */
interface RunnerTransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/** How long one statement may wait for a lock inside SQLite (its busy handler blocks the event loop). */
export const SQLITE_STATEMENT_BUSY_MS = 100;

/** How a commit reaches the disk: SQLite syncs it in COMMIT, or `run` syncs the WAL file after it. */
type Durability =
  | { syncedBy: 'sqlite' }
  | { syncedBy: 'wal-sync'; walFile: string; directorySynced: boolean; checkpointer: SqliteCheckpointer };

/** The raw connection TypeORM's better-sqlite3 driver holds for a data source. */
export function sqliteConnectionOf(dataSource: DataSource): SqliteConnection {
  return (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

export class SqliteTransactions {
  private readonly logger = new Logger('Storage');
  private durability: Durability | undefined;

  constructor(
    private readonly dataSource: DataSource,
    /** How long a write waits for another process's write lock before giving up with SQLITE_BUSY. */
    private readonly busyTimeoutMs: number,
  ) {}

  private get connection(): SqliteConnection {
    return sqliteConnectionOf(this.dataSource);
  }

  /**
   * Runs `work` in one transaction: it returns only once COMMIT has succeeded and the connection has left
   * the transaction; otherwise it throws and nothing of it stays. `waitForLockMs` overrides the wait for
   * another process's lock (0: one attempt).
   */
  async run<T>(work: (manager: EntityManager) => Promise<T>, waitForLockMs = this.busyTimeoutMs): Promise<T> {
    // The driver's one query runner: every statement of the app goes through it.
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    const state = runner as unknown as RunnerTransactionState;
    const durability = (this.durability ??= this.chooseDurability());
    this.leaveTransaction('a transaction was found open before a new unit of work');
    await this.begin(waitForLockMs);
    state.isTransactionActive = true;
    state.transactionDepth = 1;
    let result: T;
    try {
      result = await work(runner.manager);
      this.connection.exec('COMMIT');
    } finally {
      state.isTransactionActive = false;
      state.transactionDepth = 0;
      // After an error, or a COMMIT that failed: whatever SQLite did by itself, end it here.
      this.leaveTransaction();
    }
    if (durability.syncedBy === 'wal-sync') {
      await this.syncWal(durability);
      durability.checkpointer.committed();
    }
    return result;
  }

  /** Ends the checkpoint thread, if there is one (at shutdown: the writer's own checkpoints go on). */
  async close(): Promise<void> {
    if (this.durability?.syncedBy === 'wal-sync') await this.durability.checkpointer.close();
  }

  /**
   * A file in WAL mode gets synchronous=NORMAL and the WAL synced by `run`; anything else (a database in
   * memory, a file SQLite would not put in WAL mode) keeps SQLite's own sync in COMMIT (synchronous=FULL,
   * as data-source.ts opens every connection).
   */
  private chooseDurability(): Durability {
    const connection = this.connection;
    if (connection.memory || connection.pragma('journal_mode', { simple: true }) !== 'wal')
      return { syncedBy: 'sqlite' };
    connection.pragma('synchronous = NORMAL');
    return {
      syncedBy: 'wal-sync',
      walFile: `${connection.name}-wal`,
      directorySynced: false,
      checkpointer: new SqliteCheckpointer(connection.name, connection),
    };
  }

  /**
   * fdatasync of the WAL file, which holds every frame committed so far (a checkpoint that moved them into
   * the database file synced that file first). The WAL's own name in its folder is synced once too. A sync
   * that fails leaves the commit in place but not known to be on disk: the caller gets an error that
   * says so (not a storage fault, whose answer says nothing was stored).
   */
  private async syncWal(durability: Extract<Durability, { syncedBy: 'wal-sync' }>): Promise<void> {
    try {
      await syncFile(durability.walFile, 'data');
      if (!durability.directorySynced) {
        await syncFile(dirname(durability.walFile), 'all');
        durability.directorySynced = true;
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(
        `the WAL could not be synced to disk (${reason}): the last commit may not survive a power cut`,
      );
      throw new CommitUnconfirmedError(reason);
    }
  }

  /** BEGIN IMMEDIATE, retried with growing pauses until the lock is granted or the wait is over. */
  private async begin(waitMs: number): Promise<void> {
    const connection = this.connection;
    const deadline = performance.now() + waitMs;
    let pause = 2;
    for (;;) {
      connection.pragma('busy_timeout = 0');
      try {
        connection.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
        const left = deadline - performance.now();
        if (!busy || left <= 0) throw error;
        await sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, 50);
      } finally {
        connection.pragma(`busy_timeout = ${SQLITE_STATEMENT_BUSY_MS}`);
      }
    }
  }

  /** Rolls back a transaction the connection is still in; `reason` says why one is not expected. */
  private leaveTransaction(reason?: string): void {
    if (!this.inTransaction()) return;
    if (reason) this.logger.error(`${reason}: rolling it back`);
    try {
      this.connection.exec('ROLLBACK');
    } catch (error) {
      // SQLite may have ended it already; inTransaction says whether it did.
      this.logger.warn(`ROLLBACK failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.inTransaction())
      throw new Error('the SQLite connection could not leave its transaction; nothing was committed');
  }

  /** The connection's own word on it, read afresh each time: SQLite may end a transaction by itself. */
  private inTransaction(): boolean {
    return this.connection.inTransaction;
  }
}

/** fdatasync(2) or fsync(2) of a file or a folder, on libuv's thread pool. */
async function syncFile(path: string, what: 'data' | 'all'): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await (what === 'data' ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}
