// What a failing database means for a client: a full disk, a database that cannot be reached, a lock
// that was not granted in time. Each is a fault of the service's, never of the request: it becomes a 5xx
// that says what happened and when to retry (Retry-After), and nothing of the request was stored.
import {
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
} from 'typeorm';
import { DomainError } from '../common/errors.js';

export type StorageFaultCode = 'storage_full' | 'database_unavailable' | 'database_busy';

export interface StorageFault {
  code: StorageFaultCode;
  /** What happened, for the answer and the log; never SQL or a driver's stack. */
  detail: string;
}

/** How each fault is answered. 507 says the storage is full; forwarders retry every 5xx. */
const ANSWERS: Record<StorageFaultCode, { status: number; title: string; retryAfterSeconds: number }> = {
  storage_full: { status: 507, title: 'Insufficient storage', retryAfterSeconds: 30 },
  database_unavailable: { status: 503, title: 'Database unavailable', retryAfterSeconds: 5 },
  database_busy: { status: 503, title: 'Database busy', retryAfterSeconds: 1 },
};

export class StorageFaultError extends DomainError {
  constructor(readonly fault: StorageFault) {
    const answer = ANSWERS[fault.code];
    super(
      answer.status,
      fault.code,
      answer.title,
      `${fault.detail}; nothing of this request was stored: retry after ${answer.retryAfterSeconds} s`,
      { retryAfterSeconds: answer.retryAfterSeconds },
    );
    this.headers = { 'retry-after': String(answer.retryAfterSeconds) };
  }
}

/**
 * A commit SQLite made whose sync to disk then failed (sqlite-transactions.ts): unlike the faults above,
 * the request may be stored, so the answer says so and how to retry without storing it twice.
 */
export class CommitUnconfirmedError extends DomainError {
  static readonly retryAfterSeconds = 5;

  constructor(reason: string) {
    const retryAfterSeconds = CommitUnconfirmedError.retryAfterSeconds;
    super(
      503,
      'commit_unconfirmed',
      'Commit not confirmed on disk',
      `the database committed this request but the disk did not confirm it (${reason}), so it may or may ` +
        `not survive a power cut: retry after ${retryAfterSeconds} s with the same Idempotency-Key, which ` +
        'answers a batch already stored with its first answer instead of storing it again',
      { retryAfterSeconds },
    );
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}

/** SQLite result codes (better-sqlite3 names them, extended codes included, e.g. SQLITE_IOERR_WRITE). */
function sqliteFault(code: string): StorageFault | undefined {
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE_FULL')
    return { code: 'storage_full', detail: 'the disk holding the database is full' };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return { code: 'database_busy', detail: 'another process holds the database’s write lock' };
  if (code.startsWith('SQLITE_IOERR'))
    return {
      code: 'database_unavailable',
      detail: 'the database file cannot be read or written (I/O error)',
    };
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN'))
    return { code: 'database_unavailable', detail: 'the database file cannot be written' };
  return undefined;
}

/** PostgreSQL SQLSTATEs that are the server's condition, not the request's. */
function postgresFault(sqlState: string): StorageFault | undefined {
  if (sqlState === '53100') return { code: 'storage_full', detail: 'the database server’s disk is full' };
  // 08: connection exceptions; 57P0x: the server is shutting down, crashed or starting; 53: out of resources.
  if (sqlState.startsWith('08') || /^57P0[1-4]$/.test(sqlState) || sqlState.startsWith('53'))
    return { code: 'database_unavailable', detail: 'the database server cannot take requests now' };
  // Lock and statement timeouts, deadlocks and serialization failures: the same request may succeed again.
  if (sqlState === '55P03' || sqlState === '57014' || sqlState === '40P01' || sqlState === '40001')
    return { code: 'database_busy', detail: 'the database did not grant a lock or finish in time' };
  return undefined;
}

/** node-postgres and socket errors that mean the server cannot be reached or stopped answering. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Connection ended/i;

/** The fault an error stands for, or undefined when it is not the database's condition. */
export function storageFaultOf(error: unknown): StorageFault | undefined {
  if (error instanceof StorageFaultError) return error.fault;
  // TypeORM releases a query runner whose connection failed (the server went away mid-transaction).
  if (
    error instanceof QueryRunnerAlreadyReleasedError ||
    error instanceof QueryRunnerProviderAlreadyReleasedError
  )
    return { code: 'database_unavailable', detail: 'the connection to the database server was lost' };
  const driverError: unknown = error instanceof QueryFailedError ? error.driverError : error;
  if (typeof driverError !== 'object' || driverError === null) return undefined;
  const { code, message } = driverError as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_')) return sqliteFault(code);
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const fault = postgresFault(code);
      if (fault) return fault;
    }
    if (CONNECTION_ERRORS.has(code))
      return { code: 'database_unavailable', detail: 'the database server cannot be reached' };
  }
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message))
    return { code: 'database_unavailable', detail: 'the database server stopped answering' };
  return undefined;
}
