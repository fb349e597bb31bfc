// How busy the database connection pool is, for the metrics. The storage layer may provide its own
// POOL_STATS later; until then it is read from TypeORM's data source.
import type { DataSource } from 'typeorm';

export interface PoolStats {
  /** Connections open. */
  total: number;
  /** Open connections doing nothing. */
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** Injection token of a `() => PoolStats`, asked at every scrape. */
export const POOL_STATS = Symbol('POOL_STATS');

export type PoolStatsReader = () => PoolStats;

/** The counts node-postgres keeps on its Pool. */
interface PgPoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** SQLite (better-sqlite3) is one connection, always there; PostgreSQL has node-postgres's pool. */
export function dataSourcePoolStats(dataSource: DataSource): PoolStats {
  if (dataSource.options.type === 'postgres') {
    // TypeORM keeps the pool as `master` on its PostgresDriver and has no public way to read it.
    const pool = (dataSource.driver as unknown as { master?: PgPoolCounts }).master;
    if (pool) return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    return { total: 0, idle: 0, waiting: 0 };
  }
  return { total: 1, idle: 1, waiting: 0 };
}
