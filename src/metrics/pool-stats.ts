// How busy the database connection pool is, for the metrics; storage/pool-stats.ts reads it from the
// database's driver.

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
