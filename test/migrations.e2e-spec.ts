// The migrations of each database build exactly the schema the entities describe, and revert cleanly;
// on PostgreSQL, instances starting together migrate once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../migrations/postgres/index.js';
import { SQLITE_MIGRATIONS } from '../migrations/sqlite/index.js';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions } from '../src/storage/data-source.js';
import { openDataSource } from '../src/storage/storage.module.js';
import { newDatabase, removeDatabase } from './support/app.js';

/**
 * Undoes the migrations from RuleFormat on, stores versions the way older releases did (no format column),
 * and applies them again: each version takes the language its metadata named.
 */
async function backfilledFormats(dataSource: DataSource): Promise<string[]> {
  await dataSource.undoLastMigration(); // PythonLibrary
  await dataSource.undoLastMigration(); // RuleFormat
  const insert = (id: number, language: string | undefined) =>
    dataSource.query(
      `INSERT INTO "rule_versions" ("id", "rule_id", "version", "source_text", "source_format", "content_hash", "metadata", "origin", "tests_passed", "tests_failed", "created_at") VALUES (${id}, 'Old.Rule', ${id}, 'RuleID: Old.Rule', 'yaml', 'hash', '${JSON.stringify(language === undefined ? {} : { detectionLanguage: language })}', 'api', 0, 0, '2025-01-01T00:00:00.000Z')`,
    );
  await insert(1, 'condition');
  await insert(2, 'panther');
  await insert(3, undefined);
  expect((await dataSource.runMigrations()).map((migration) => migration.name)).toEqual([
    'RuleFormat1765200000000',
    'PythonLibrary1765300000000',
  ]);
  const rows = await dataSource.query<{ format: string }[]>(
    `SELECT "format" FROM "rule_versions" ORDER BY "id"`,
  );
  await dataSource.query(`DELETE FROM "rule_versions"`);
  return rows.map((row) => row.format);
}

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
      'WriteProbe1765100000000',
      'RuleFormat1765200000000',
      'PythonLibrary1765300000000',
    ]);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('turn on WAL, foreign keys and a short busy timeout (writes wait for locks without blocking)', async () => {
    expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await dataSource.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(await dataSource.query('PRAGMA busy_timeout')).toEqual([{ timeout: 100 }]);
  });

  it('revert to an empty schema and apply again', async () => {
    for (let step = 0; step < SQLITE_MIGRATIONS.length; step++) await dataSource.undoLastMigration();
    const tables = await dataSource.query<{ name: string }[]>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('migrations', 'sqlite_sequence')`,
    );
    expect(tables).toEqual([]);
    expect((await dataSource.runMigrations()).length).toBe(SQLITE_MIGRATIONS.length);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries).toEqual([]);
  });

  it('record the format of versions stored before the column existed', async () => {
    expect(await backfilledFormats(dataSource)).toEqual(['condition', 'panther', 'panther']);
  });
});

describe('PostgreSQL migrations', () => {
  let databaseUrl = '';
  let dataSource: DataSource;

  beforeAll(async () => {
    databaseUrl = await newDatabase('postgres');
    dataSource = new DataSource(dataSourceOptions(loadConfig({ DATABASE_URL: databaseUrl })));
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await removeDatabase({ databaseUrl });
  });

  it('leave nothing for TypeORM to change after they ran, with timestamptz and jsonb', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((migration) => migration.name)).toEqual([
      'InitialSchema1764500000000',
      'WriteProbe1765100000000',
      'RuleFormat1765200000000',
      'PythonLibrary1765300000000',
    ]);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    const types = await dataSource.query<{ column_name: string; data_type: string }[]>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'hits' AND column_name IN ('event_time', 'output_fields', 'event') ORDER BY column_name`,
    );
    expect(types).toEqual([
      { column_name: 'event', data_type: 'json' },
      { column_name: 'event_time', data_type: 'timestamp with time zone' },
      { column_name: 'output_fields', data_type: 'json' },
    ]);
  });

  it('revert to an empty schema and apply again', async () => {
    for (let step = 0; step < POSTGRES_MIGRATIONS.length; step++) await dataSource.undoLastMigration();
    const tables = await dataSource.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
    expect(tables).toEqual([]);
    expect((await dataSource.runMigrations()).length).toBe(POSTGRES_MIGRATIONS.length);
  });

  it('record the format of versions stored before the column existed', async () => {
    expect(await backfilledFormats(dataSource)).toEqual(['condition', 'panther', 'panther']);
  });

  it('run once when several instances start together', async () => {
    const fresh = await newDatabase('postgres');
    try {
      const config = loadConfig({ DATABASE_URL: fresh });
      const opened = await Promise.all([1, 2, 3, 4].map(() => openDataSource(config)));
      const counts = await Promise.all(
        opened.map((source) =>
          source.query<[{ n: number }]>('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM migrations'),
        ),
      );
      const all = POSTGRES_MIGRATIONS.length;
      expect(counts.map(([row]) => row.n)).toEqual([all, all, all, all]);
      await Promise.all(opened.map((source) => source.destroy()));
    } finally {
      await removeDatabase({ databaseUrl: fresh });
    }
  });
});
