// The POOL_STATS the metrics ask for (metrics/pool-stats.ts), read from TypeORM's data source.
import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { POOL_STATS, type PoolStats, type PoolStatsReader } from '../metrics/pool-stats.js';

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

/** Provides POOL_STATS from the app's data source, read again at every scrape. */
export const dataSourcePoolStatsProvider: Provider = {
  provide: POOL_STATS,
  inject: [DataSource],
  useFactory:
    (dataSource: DataSource): PoolStatsReader =>
    () =>
      dataSourcePoolStats(dataSource),
};
