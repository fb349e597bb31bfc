// TypeORM data source options for the configured database, shared by the app and the migration CLI.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { POSTGRES_MIGRATIONS } from '../../migrations/postgres/index.js';
import { SQLITE_MIGRATIONS } from '../../migrations/sqlite/index.js';
import type { AppConfig } from '../config/config.js';
import { applyColumnTypes } from './column-types.js';
import { ENTITIES } from './entities.js';
import { SQLITE_STATEMENT_BUSY_MS } from './sqlite-transactions.js';

/**
 * The client gives a statement this share of the server's statement_timeout more (at most 5 s) before it
 * gives up on it: a server that stopped answering altogether never sends its own timeout.
 */
function clientReadTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + Math.min(5000, Math.ceil(statementTimeoutMs / 4));
}

interface SqliteConnection {
  pragma(source: string): unknown;
}

/** mkdir -p, one level at a time (Node's recursive mkdir never returns for some paths, e.g. under /proc). */
function makeDirectories(path: string): void {
  const missing: string[] = [];
  for (let current = path; !existsSync(current); current = dirname(current)) {
    missing.push(current);
    if (dirname(current) === current) break;
  }
  for (const directory of missing.reverse()) mkdirSync(directory);
}

/** Creates the SQLite file's folder; throws with the reason when it cannot (checked before the app starts). */
export function ensureDatabaseLocation(config: AppConfig): void {
  const database = config.database;
  if (database.kind !== 'sqlite' || database.path === ':memory:') return;
  makeDirectories(dirname(database.path));
  if (existsSync(database.path) && !statSync(database.path).isFile())
    throw new Error(`${database.path} is not a file`);
}

/**
 * The data source for the configured database. On PostgreSQL every wait is bounded: opening a connection,
 * a statement (on the server, and on the client too, for a server that stopped answering altogether) and
 * a lock. `purpose: 'migrations'` leaves statements unbounded: building an index on a large table may
 * take longer than any request should.
 */
export function dataSourceOptions(
  config: AppConfig,
  purpose: 'requests' | 'migrations' = 'requests',
): DataSourceOptions {
  const database = config.database;
  applyColumnTypes(database.kind, ENTITIES);
  if (database.kind === 'postgres') {
    const bounded = purpose === 'requests';
    // Every statement in UTC, so that times read back and bucketed by hour or day need no conversion.
    const settings = ['-c timezone=UTC'];
    if (bounded)
      settings.push(
        `-c statement_timeout=${database.statementTimeoutMs}`,
        `-c lock_timeout=${database.lockTimeoutMs}`,
      );
    return {
      type: 'postgres',
      url: database.url,
      entities: ENTITIES,
      migrations: POSTGRES_MIGRATIONS,
      migrationsTableName: 'migrations',
      synchronize: false,
      poolSize: bounded ? database.poolSize : 2,
      connectTimeoutMS: database.connectTimeoutMs,
      extra: {
        options: settings.join(' '),
        application_name: 'tripline',
        keepAlive: true,
        ...(bounded ? { query_timeout: clientReadTimeoutMs(database.statementTimeoutMs) } : {}),
      },
    };
  }
  ensureDatabaseLocation(config);
  return {
    type: 'better-sqlite3',
    database: database.path,
    entities: ENTITIES,
    migrations: SQLITE_MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    enableWAL: true,
    // Writes wait for another process's lock in sqlite-transactions.ts, without blocking the event loop.
    timeout: SQLITE_STATEMENT_BUSY_MS,
    prepareDatabase: (connection: SqliteConnection) => {
      connection.pragma('foreign_keys = ON');
      connection.pragma(`busy_timeout = ${SQLITE_STATEMENT_BUSY_MS}`);
      connection.pragma(SQLITE_CACHE_SIZE);
      // A statement that writes several rows keeps a journal to undo itself on a constraint error; in a
      // temporary file (the default) that made a multi-row INSERT of hits three times as slow per row as
      // one row at a time (35 against 10 µs in a scratch measurement); in memory, about as fast.
      connection.pragma('temp_store = MEMORY');
      // Every commit is synced to disk: a 2xx answer means the data survives a power cut too. (The
      // writes of requests on a WAL file are synced by sqlite-transactions.ts instead, off the event loop.)
      connection.pragma('synchronous = FULL');
    },
  };
}

/** 64 MiB of page cache (the default is 2 MiB): index pages of busy queries stay in memory. */
const SQLITE_CACHE_SIZE = 'cache_size = -65536';

/**
 * The data source reads use beside the writer's on an SQLite file (sqlite-readers.ts): the same file and
 * entities, refused every change (`query_only`), opened only once migrations made the file and set WAL
 * (a lasting property of the file), which is what lets it read while the writer writes.
 */
export function sqliteReaderOptions(config: AppConfig): DataSourceOptions {
  const database = config.database;
  if (database.kind !== 'sqlite' || database.path === ':memory:')
    throw new Error('a separate reader needs an SQLite file');
  applyColumnTypes(database.kind, ENTITIES);
  return {
    type: 'better-sqlite3',
    database: database.path,
    fileMustExist: true,
    entities: ENTITIES,
    synchronize: false,
    timeout: SQLITE_STATEMENT_BUSY_MS,
    prepareDatabase: (connection: SqliteConnection) => {
      connection.pragma('query_only = ON');
      connection.pragma(`busy_timeout = ${SQLITE_STATEMENT_BUSY_MS}`);
      connection.pragma(SQLITE_CACHE_SIZE);
    },
  };
}
