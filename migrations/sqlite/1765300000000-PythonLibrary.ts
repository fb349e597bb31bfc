import type { MigrationInterface, QueryRunner } from 'typeorm';

// One line per statement, in the form TypeORM writes (it reads SQLite's schema back from this text).
const LIBRARY_ITEMS_COLUMNS = [
  '"kind" varchar(16) NOT NULL',
  '"item_id" varchar(200) NOT NULL',
  '"current_version" integer NOT NULL',
  '"current_version_id" integer NOT NULL',
  '"created_at" datetime NOT NULL',
  '"updated_at" datetime NOT NULL',
  '"deleted_at" datetime',
  'PRIMARY KEY ("kind", "item_id")',
];

const LIBRARY_VERSIONS_COLUMNS = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"kind" varchar(16) NOT NULL',
  '"item_id" varchar(200) NOT NULL',
  '"version" integer NOT NULL',
  '"source_text" text NOT NULL',
  '"source_format" varchar(8) NOT NULL',
  '"content_hash" varchar(64) NOT NULL',
  '"origin" varchar(16) NOT NULL',
  '"created_by_key" varchar(64)',
  '"created_at" datetime NOT NULL',
];

const RULE_CACHE_COLUMNS = [
  '"cache_key" varchar(512) PRIMARY KEY NOT NULL',
  '"counter" bigint NOT NULL',
  '"strings" text NOT NULL',
  '"dictionary" text NOT NULL',
  '"expires_at" bigint NOT NULL',
];

/**
 * What Panther's Python rules need stored beside them: global helpers and data models, versioned like
 * rules; the helper versions each rule version was tested with; and the rules' shared cache.
 */
export class PythonLibrary1765300000000 implements MigrationInterface {
  name = 'PythonLibrary1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "library_items" (${LIBRARY_ITEMS_COLUMNS.join(', ')})`);
    await queryRunner.query(`CREATE TABLE "library_versions" (${LIBRARY_VERSIONS_COLUMNS.join(', ')})`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_library_versions_item_version" ON "library_versions" ("kind", "item_id", "version")`,
    );
    await queryRunner.query(`CREATE TABLE "rule_cache_entries" (${RULE_CACHE_COLUMNS.join(', ')})`);
    await queryRunner.query(
      `CREATE INDEX "ix_rule_cache_entries_expires" ON "rule_cache_entries" ("expires_at")`,
    );
    await queryRunner.query(`ALTER TABLE "rule_versions" ADD COLUMN "library_versions" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rule_versions" DROP COLUMN "library_versions"`);
    await queryRunner.query(`DROP INDEX "ix_rule_cache_entries_expires"`);
    await queryRunner.query(`DROP TABLE "rule_cache_entries"`);
    await queryRunner.query(`DROP INDEX "uq_library_versions_item_version"`);
    await queryRunner.query(`DROP TABLE "library_versions"`);
    await queryRunner.query(`DROP TABLE "library_items"`);
  }
}
