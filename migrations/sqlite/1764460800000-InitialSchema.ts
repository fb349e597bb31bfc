import type { MigrationInterface, QueryRunner } from 'typeorm';

// TypeORM reads SQLite's schema back from the CREATE TABLE text, so each statement is kept on one line in
// the form it writes itself; the column lists are spelt out one per line here for review.
const RULE_VERSIONS_COLUMNS = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"rule_id" varchar(200) NOT NULL',
  '"version" integer NOT NULL',
  '"source_text" text NOT NULL',
  '"source_format" varchar(8) NOT NULL',
  '"content_hash" varchar(64) NOT NULL',
  '"metadata" text NOT NULL',
  '"origin" varchar(16) NOT NULL',
  '"created_by_key" varchar(64)',
  '"tests_passed" integer NOT NULL',
  '"tests_failed" integer NOT NULL',
  '"created_at" datetime NOT NULL',
];

const RULES_COLUMNS = [
  '"rule_id" varchar(200) PRIMARY KEY NOT NULL',
  '"current_version" integer NOT NULL',
  '"current_version_id" integer NOT NULL',
  '"enabled" boolean NOT NULL',
  '"created_at" datetime NOT NULL',
  '"updated_at" datetime NOT NULL',
  '"deleted_at" datetime',
  'CONSTRAINT "fk_rules_current_version" FOREIGN KEY ("current_version_id") REFERENCES "rule_versions" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION',
];

/** Rules and their versions. Versions are never deleted: a hit always names the version that made it. */
export class InitialSchema1764460800000 implements MigrationInterface {
  name = 'InitialSchema1764460800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "rule_versions" (${RULE_VERSIONS_COLUMNS.join(', ')})`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_rule_versions_rule_version" ON "rule_versions" ("rule_id", "version")`,
    );
    await queryRunner.query(`CREATE TABLE "rules" (${RULES_COLUMNS.join(', ')})`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rules"`);
    await queryRunner.query(`DROP INDEX "uq_rule_versions_rule_version"`);
    await queryRunner.query(`DROP TABLE "rule_versions"`);
  }
}
