// The SQLite migrations build exactly the schema the entities describe, and revert cleanly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions } from '../src/storage/data-source.js';

describe('SQLite migrations', () => {
  let directory = '';
  let dataSource: DataSource;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tripline-migrations-'));
    dataSource = new DataSource(
      dataSourceOptions(loadConfig({ DATABASE_URL: `sqlite:${join(directory, 'db.sqlite')}` })),
    );
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await rm(directory, { recursive: true, force: true });
  });

  it('leave nothing for TypeORM to change after they ran', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((migration) => migration.name)).toEqual([
      'InitialSchema1764460800000',
      'Ingest1764470000000',
      'Queries1764480000000',
      'Security1764490000000',
    ]);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('turn on WAL, foreign keys and a busy timeout', async () => {
    expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await dataSource.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(await dataSource.query('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
  });

  it('revert to an empty schema and apply again', async () => {
    for (let step = 0; step < 4; step++) await dataSource.undoLastMigration();
    const tables = await dataSource.query<{ name: string }[]>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('rules', 'rule_versions', 'api_keys', 'audit_events')`,
    );
    expect(tables).toEqual([]);
    expect((await dataSource.runMigrations()).length).toBe(4);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries).toEqual([]);
  });
});
