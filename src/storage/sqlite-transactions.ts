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
import { Logger } from '@nestjs/common';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** TypeORM's record of its runner's transaction, set to match the transaction opened here. */
interface RunnerTransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/** How long one statement may wait for a lock inside SQLite (its busy handler blocks the event loop). */
export const SQLITE_STATEMENT_BUSY_MS = 100;

export class SqliteTransactions {
  private readonly logger = new Logger('Storage');

  constructor(
    private readonly dataSource: DataSource,
    /** How long a write waits for another process's write lock before giving up with SQLITE_BUSY. */
    private readonly busyTimeoutMs: number,
  ) {}

  /** The raw connection TypeORM's better-sqlite3 driver holds. */
  private get connection(): SqliteConnection {
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
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
    this.leaveTransaction('a transaction was found open before a new unit of work');
    await this.begin(waitForLockMs);
    state.isTransactionActive = true;
    state.transactionDepth = 1;
    try {
      const result = await work(runner.manager);
      this.connection.exec('COMMIT');
      return result;
    } finally {
      state.isTransactionActive = false;
      state.transactionDepth = 0;
      // After an error, or a COMMIT that failed: whatever SQLite did by itself, end it here.
      this.leaveTransaction();
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
