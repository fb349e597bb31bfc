// Reads on an SQLite file through a connection of their own, so that they never wait behind writes: in
// WAL mode a reader sees the last committed state while the writer's transaction goes on, never half of
// it. Each unit of work reads in one read transaction, so all of its statements see the same snapshot
// (a rule set's stamp and its sources, an alert and its history); the units of work take turns on the
// one connection, as a transaction is the connection's. A write that has returned was committed on the
// writer's connection (sqlite-transactions.ts), so a read started after it sees it.
// better-sqlite3 is synchronous: a statement blocks the event loop while it runs. That is acceptable for
// the reads here, which are keyset pages and counts bounded by their limits.
// A database held in memory (`:memory:`) is the writer's connection alone: there, reads stay in the
// writers' queue (database.service.ts).
import type { OnApplicationShutdown, Provider } from '@nestjs/common';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { sqliteReaderOptions } from './data-source.js';
import { sqliteConnectionOf } from './sqlite-transactions.js';

/** The SqliteReader given to the Database, or null where reads share the writer's connection. */
export const SQLITE_READER = Symbol('SQLITE_READER');

export class SqliteReader implements OnApplicationShutdown {
  /** Settles when the unit of work reading now has ended its transaction. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {}

  /** Runs `work` on one snapshot of the last committed state, after the reads before it. */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const run = () => this.inReadTransaction(work);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Closes the connection once the reads in progress have ended (after the HTTP server has closed). */
  async onApplicationShutdown(): Promise<void> {
    await this.tail;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private async inReadTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const connection = this.connection;
    // A deferred transaction takes its snapshot at its first SELECT and never asks for the write lock.
    connection.exec('BEGIN');
    try {
      return await work(this.dataSource.manager);
    } catch (error) {
      // query_only answers SQLITE_READONLY: the code is wrong, not the file (not a storage fault).
      if ((error as { driverError?: { code?: unknown } }).driverError?.code === 'SQLITE_READONLY')
        throw new Error('a read tried to change the database; changes go through Database.write', {
          cause: error,
        });
      throw error;
    } finally {
      // COMMIT of a transaction that only read ends it; SQLite may have ended it already after an error.
      // Should COMMIT fail, ROLLBACK ends it instead: the connection must never stay in a transaction
      // (every later read's BEGIN would fail), and the read's own answer or error stands.
      // (Read afresh each time: SQLite may end a transaction by itself.)
      const open = () => connection.inTransaction;
      if (open()) {
        try {
          connection.exec('COMMIT');
        } catch {
          if (open()) connection.exec('ROLLBACK');
        }
      }
    }
  }

  private get connection(): SqliteConnection {
    return sqliteConnectionOf(this.dataSource);
  }
}

/** A reader on the configured SQLite file, or null for PostgreSQL and an in-memory database. */
export async function openSqliteReader(config: AppConfig): Promise<SqliteReader | null> {
  const database = config.database;
  if (database.kind !== 'sqlite' || database.path === ':memory:') return null;
  return new SqliteReader(await new DataSource(sqliteReaderOptions(config)).initialize());
}

/** Opened after the writer's data source (which the app opens once migrations ran), so the file exists. */
export const sqliteReaderProvider: Provider = {
  provide: SQLITE_READER,
  inject: [APP_CONFIG, DataSource],
  useFactory: (config: AppConfig) => openSqliteReader(config),
};
