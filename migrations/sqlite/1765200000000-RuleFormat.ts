import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every rule version records the format its source is read with. Versions stored before formats were
 * plug-ins take the language their metadata already named (every one of them is Panther YAML).
 */
export class RuleFormat1765200000000 implements MigrationInterface {
  name = 'RuleFormat1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "rule_versions" ADD COLUMN "format" varchar(32) NOT NULL DEFAULT ('panther')`,
    );
    await queryRunner.query(
      `UPDATE "rule_versions" SET "format" = COALESCE(json_extract("metadata", '$.detectionLanguage'), 'panther')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rule_versions" DROP COLUMN "format"`);
  }
}
