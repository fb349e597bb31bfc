import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What Panther's Python rules need stored beside them: global helpers and data models, versioned like
 * rules; the helper versions each rule version was tested with; and the rules' shared cache.
 */
export class PythonLibrary1765300000000 implements MigrationInterface {
  name = 'PythonLibrary1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "library_items" ("kind" character varying(16) NOT NULL, "item_id" character varying(200) NOT NULL, "current_version" integer NOT NULL, "current_version_id" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_cfbfcd17893287bdac0e9a58bfa" PRIMARY KEY ("kind", "item_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "library_versions" ("id" SERIAL NOT NULL, "kind" character varying(16) NOT NULL, "item_id" character varying(200) NOT NULL, "version" integer NOT NULL, "source_text" text NOT NULL, "source_format" character varying(8) NOT NULL, "content_hash" character varying(64) NOT NULL, "origin" character varying(16) NOT NULL, "created_by_key" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_22de4759fdba788612ffbfb7356" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_library_versions_item_version" ON "library_versions" ("kind", "item_id", "version")`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_cache_entries" ("cache_key" character varying(512) NOT NULL, "counter" bigint NOT NULL, "strings" text NOT NULL, "dictionary" text NOT NULL, "expires_at" bigint NOT NULL, CONSTRAINT "PK_987ff168c781db76b4f4d171c7a" PRIMARY KEY ("cache_key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_rule_cache_entries_expires" ON "rule_cache_entries" ("expires_at")`,
    );
    await queryRunner.query(`ALTER TABLE "rule_versions" ADD "library_versions" json`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rule_versions" DROP COLUMN "library_versions"`);
    await queryRunner.query(`DROP INDEX "public"."ix_rule_cache_entries_expires"`);
    await queryRunner.query(`DROP TABLE "rule_cache_entries"`);
    await queryRunner.query(`DROP INDEX "public"."uq_library_versions_item_version"`);
    await queryRunner.query(`DROP TABLE "library_versions"`);
    await queryRunner.query(`DROP TABLE "library_items"`);
  }
}
