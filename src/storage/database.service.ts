// Transactions on the configured database, and the one promise every write keeps: when `write` returns,
// its work is committed; when it throws, none of it is. SQLite through better-sqlite3 writes on one
// connection, so there units of work run one at a time (sqlite-transactions.ts); reads of an SQLite file
// have a connection of their own and never wait for them (sqlite-readers.ts). PostgreSQL has a pool:
// units of work run side by side, and what must not interleave takes an advisory lock (storage/sql.ts,
// lockNames).
// A database fault (a full disk, a server that stopped or froze, a lock not granted in time) becomes a
// 5xx with Retry-After (database-faults.ts), and readiness reports it until a write commits again.
import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { DomainError } from '../common/errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { storageFaultOf, StorageFaultError, type StorageFault } from './database-faults.js';
import { GroupCommit, type GroupCommitCounts, type RepeatableUnitOfWork } from './group-commit.js';
import { dialectOf, type SqlDialect } from './sql.js';
import { SQLITE_READER, type SqliteReader } from './sqlite-readers.js';
import { SqliteTransactions } from './sqlite-transactions.js';

/**
 * PostgreSQL text cannot hold U+0000 (nor a lone surrogate in JSON escapes it must decode): a value the
 * client sent that the database cannot take is the client's to change, not a server fault.
 */
const UNREPRESENTABLE_CHARACTER = new Set(['22021', '22P05']);

/** How long readiness waits for the database before it says the database does not answer. */
export const READINESS_TIMEOUT_MS = 3000;
/** After a full disk, how much more room there must be than when it filled before readiness tries again. */
const STORAGE_HEADROOM_BYTES = 1024 * 1024;

/** What the readiness probe writes and takes back: a few pages, and random so that nothing compresses it. */
const PROBE_FILLER = randomBytes(6 * 1024).toString('base64');

export type UnitOfWork<T> = (manager: EntityManager) => Promise<T>;

export type Readiness = { ready: true } | { ready: false; code: string; detail: string };

@Injectable()
export class Database implements OnApplicationShutdown {
  readonly dialect: SqlDialect;
  private readonly logger = new Logger('Storage');
  private readonly sqlite: SqliteTransactions | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** The fault the last failed unit of work met, until a write commits again. */
  private fault: StorageFault | undefined;
  /** SQLite: the file's folder, and the space free there when the disk was last found full. */
  private readonly sqliteDirectory: string | undefined;
  private freeBytesWhenFull = 0;
  /** SQLite: writes that opt in share transactions and COMMITs (group-commit.ts). */
  private readonly groupCommit = new GroupCommit({
    transaction: (work) => this.transaction(work),
    serialize: (job) => void this.enqueue(job, false),
    committed: () => this.recovered(),
    failed: (error) => this.translated(error),
  });

  constructor(
    readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    /** An SQLite file's connection for reads; null on PostgreSQL, and in memory, where reads queue with writes. */
    @Optional() @Inject(SQLITE_READER) private readonly reader: SqliteReader | null = null,
  ) {
    this.dialect = dialectOf(dataSource.manager);
    this.sqlite =
      config.database.kind === 'sqlite'
        ? new SqliteTransactions(dataSource, config.database.busyTimeoutMs)
        : undefined;
    this.sqliteDirectory =
      config.database.kind === 'sqlite' && config.database.path !== ':memory:'
        ? dirname(config.database.path)
        : undefined;
  }

  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  write<T>(work: UnitOfWork<T>): Promise<T> {
    return this.enqueue(() => this.transaction(work), true);
  }

  /**
   * As `write`, but on SQLite `work` may share its transaction and COMMIT with other grouped writes that
   * arrive meanwhile; it returns, as `write` does, only once committed. `work` must be safe to run again:
   * if its group fails, each member runs once more alone. On PostgreSQL, writes run side by side already.
   */
  writeGrouped<T>(work: RepeatableUnitOfWork<T>): Promise<T> {
    return this.sqlite ? this.groupCommit.add(work) : this.write(work);
  }

  /** Ends SQLite's WAL checkpoint thread once requests are over (sqlite-checkpointer.ts). */
  async onApplicationShutdown(): Promise<void> {
    await this.sqlite?.close();
  }

  /** How many grouped writes were committed, in how many transactions. */
  get groupCommitCounts(): Readonly<GroupCommitCounts> {
    return this.groupCommit.counts;
  }

  /**
   * Runs reads; they never see half of a write. On an SQLite file they read the last committed snapshot
   * on their own connection, beside the write in progress; in memory they wait for it in the queue.
   */
  read<T>(work: UnitOfWork<T>): Promise<T> {
    if (this.reader)
      return this.reader.read(work).catch((error: unknown) => {
        throw this.translated(error);
      });
    return this.enqueue(() => work(this.dataSource.manager), false);
  }

  /**
   * Whether the service can do its work now: the database answers, and, after a fault, a write commits
   * again (a full disk is over only when a commit goes through). Bounded by READINESS_TIMEOUT_MS, also
   * when the database does not answer at all.
   */
  async readiness(): Promise<Readiness> {
    // A small probe may fit in the room a full disk has left (SQLite reuses its WAL file) while a batch
    // does not: after a full disk, the free space must have grown before the probe is even tried.
    if (this.fault?.code === 'storage_full' && this.sqliteDirectory !== undefined) {
      const free = freeBytes(this.sqliteDirectory);
      if (free !== undefined && free < this.freeBytesWhenFull + STORAGE_HEADROOM_BYTES)
        return { ready: false, code: this.fault.code, detail: `${this.fault.detail} (${free} bytes free)` };
    }
    const check = this.fault ? this.probeWrite() : this.ping();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StorageFaultError({ code: 'database_unavailable', detail: 'the database does not answer' }),
          ),
        READINESS_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([check, timeout]);
      return { ready: true };
    } catch (error) {
      const fault = storageFaultOf(error) ?? {
        code: 'database_unavailable',
        detail: 'the database does not answer queries',
      };
      return { ready: false, code: fault.code, detail: fault.detail };
    } finally {
      clearTimeout(timer);
      // A check given up on may still fail later; that is already answered.
      check.catch(() => undefined);
    }
  }

  /** SELECT 1, outside the queue: it reads nothing, so it may run between the statements of a write. */
  private async ping(): Promise<void> {
    try {
      await this.dataSource.manager.query('SELECT 1');
    } catch (error) {
      throw this.translated(error);
    }
  }

  /**
   * A real write, committed: the only proof that writes commit again after a fault. It grows the row by
   * PROBE_BYTES and shrinks it back in the same transaction, so the database must find room for new pages,
   * as a batch would, yet keeps nothing.
   */
  private probeWrite(): Promise<void> {
    const update =
      this.dialect === 'postgres'
        ? 'UPDATE "write_probe" SET "probed_at" = $1 WHERE "id" = 1'
        : 'UPDATE "write_probe" SET "probed_at" = ? WHERE "id" = 1';
    const probe: UnitOfWork<void> = async (manager) => {
      await manager.query(update, [PROBE_FILLER]);
      await manager.query(update, [new Date().toISOString()]);
    };
    // Readiness does not wait for another process's lock: one attempt says whether it is free.
    return this.enqueue(() => (this.sqlite ? this.sqlite.run(probe, 0) : this.transaction(probe)), true);
  }

  private transaction<T>(work: UnitOfWork<T>): Promise<T> {
    return this.sqlite ? this.sqlite.run(work) : postgresTransaction(this.dataSource, work);
  }

  private enqueue<T>(work: () => Promise<T>, writes: boolean): Promise<T> {
    const run = () =>
      work().then(
        (result) => {
          if (writes) this.recovered();
          return result;
        },
        (error: unknown) => {
          throw this.translated(error);
        },
      );
    if (this.dialect === 'postgres') return run();
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private recovered(): void {
    if (!this.fault) return;
    this.logger.log(`writes commit again (after: ${this.fault.detail})`);
    this.fault = undefined;
  }

  /** A driver error in the service's terms: a storage fault, a client's unstorable value, or as it is. */
  private translated(error: unknown): unknown {
    if (error instanceof DomainError && !(error instanceof StorageFaultError)) return error;
    const fault = storageFaultOf(error);
    if (fault) {
      if (this.fault?.code !== fault.code)
        this.logger.error(
          `${fault.detail}: requests that write are answered ${fault.code} until a write commits again`,
        );
      this.fault = fault;
      if (fault.code === 'storage_full' && this.sqliteDirectory !== undefined)
        this.freeBytesWhenFull = freeBytes(this.sqliteDirectory) ?? 0;
      return error instanceof StorageFaultError ? error : new StorageFaultError(fault);
    }
    const code =
      error instanceof QueryFailedError ? (error.driverError as { code?: unknown }).code : undefined;
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
}

/** Bytes free for this process on the filesystem holding `directory`; undefined when it cannot tell. */
function freeBytes(directory: string): number | undefined {
  try {
    const stats = statfsSync(directory);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/**
 * One transaction on a pooled PostgreSQL connection. A connection whose transaction could not be ended
 * (the server stopped answering mid-way) is closed rather than handed to the next unit of work, which
 * would otherwise run inside what is left of this one.
 */
async function postgresTransaction<T>(dataSource: DataSource, work: UnitOfWork<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  let broken: unknown;
  try {
    await runner.startTransaction();
    const result = await work(runner.manager);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    // A server that cannot be reached will not answer a ROLLBACK either: closing the connection ends the
    // transaction on the server's side as surely, without a second wait.
    if (storageFaultOf(error)?.code === 'database_unavailable') broken = error;
    else if (runner.isTransactionActive) {
      try {
        await runner.rollbackTransaction();
      } catch (rollbackError) {
        broken = rollbackError;
      }
    }
    throw error;
  } finally {
    if (broken === undefined) await runner.release();
    else
      await (
        runner as unknown as { releasePostgresConnection(error: unknown): Promise<void> }
      ).releasePostgresConnection(broken);
  }
}
