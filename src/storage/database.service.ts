// Transactions on the configured database. SQLite through better-sqlite3 is one connection: TypeORM
// would nest a second concurrent transaction inside the first, so there every unit of work waits its
// turn, and a transaction only ever holds its own statements. PostgreSQL has a pool: units of work run
// side by side, and what must not interleave takes an advisory lock (storage/sql.ts, lockNames).
import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { DomainError } from '../common/errors.js';
import { dialectOf, type SqlDialect } from './sql.js';

/**
 * PostgreSQL text cannot hold U+0000 (nor a lone surrogate in JSON escapes it must decode): a value the
 * client sent that the database cannot take is the client's to change, not a server fault.
 */
const UNREPRESENTABLE_CHARACTER = new Set(['22021', '22P05']);

function translated(error: unknown): unknown {
  const code = error instanceof QueryFailedError ? (error.driverError as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && UNREPRESENTABLE_CHARACTER.has(code)) {
    return new DomainError(
      400,
      'unsupported_character',
      'Unsupported character',
      'a value holds a character this database cannot store or search for (U+0000)',
    );
  }
  return error;
}

export type UnitOfWork<T> = (manager: EntityManager) => Promise<T>;

@Injectable()
export class Database {
  readonly dialect: SqlDialect;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {
    this.dialect = dialectOf(dataSource.manager);
  }

  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  write<T>(work: UnitOfWork<T>): Promise<T> {
    return this.enqueue(() => this.dataSource.transaction(work));
  }

  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: UnitOfWork<T>): Promise<T> {
    return this.enqueue(() => work(this.dataSource.manager));
  }

  /** True when the database answers a query. */
  async ping(): Promise<boolean> {
    try {
      await this.read((manager) => manager.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = () =>
      work().catch((error: unknown) => {
        throw translated(error);
      });
    if (this.dialect === 'postgres') return run();
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
