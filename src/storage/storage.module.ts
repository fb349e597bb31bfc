import { Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source.js';
import { Database } from './database.service.js';
import { sqliteReaderProvider } from './sqlite-readers.js';

/**
 * Brings the schema up to date, on a connection of its own without the statement timeouts that bound
 * requests (an index on a large table may take a while), and closes it again.
 */
export async function migrateDatabase(config: AppConfig): Promise<void> {
  const options = dataSourceOptions(config, 'migrations');
  const dataSource = await new DataSource(options).initialize();
  try {
    const applied = await whileMigrating(dataSource, () => dataSource.runMigrations({ transaction: 'each' }));
    const where =
      options.type === 'better-sqlite3' ? `SQLite ${options.database}` : `PostgreSQL ${describeUrl(options)}`;
    new Logger('Storage').log(
      `${where}: ${applied.length > 0 ? `applied migrations ${applied.map((m) => m.name).join(', ')}` : 'schema up to date'}`,
    );
  } finally {
    await dataSource.destroy();
  }
}

/** Migrates, then opens the data source requests use (embedded mode runs migrations at start). */
export async function openDataSource(config: AppConfig): Promise<DataSource> {
  await migrateDatabase(config);
  return new DataSource(dataSourceOptions(config)).initialize();
}

/** The advisory lock key for migrations: "tripline" in ASCII, as a 64-bit number. */
const MIGRATION_LOCK = 8390884987320757861n;

/**
 * Instances starting together on one PostgreSQL database migrate one at a time: the first applies what is
 * pending while the others wait on a session advisory lock, then find nothing left to do.
 */
async function whileMigrating<T>(dataSource: DataSource, migrate: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'postgres') return migrate();
  const session = dataSource.createQueryRunner();
  await session.connect();
  try {
    await session.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    return await migrate();
  } finally {
    await session.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    await session.release();
  }
}

/** host/database of a PostgreSQL URL, without its credentials, for the log. */
function describeUrl(options: DataSourceOptions): string {
  if (options.type !== 'postgres' || options.url === undefined) return '';
  const url = new URL(options.url);
  return `${url.host}${url.pathname}`;
}

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      // Migrations ran before the app was built (app.setup.ts, migrateDatabase). A database that does not
      // open will not open on a retry either: fail the start at once.
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config), retryAttempts: 0 }),
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('no data source options');
        return new DataSource(options).initialize();
      },
    }),
  ],
  providers: [sqliteReaderProvider, Database],
  exports: [Database],
})
export class StorageModule {}
