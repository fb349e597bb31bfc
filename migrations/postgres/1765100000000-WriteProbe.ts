import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row that readiness rewrites after a database fault: a write that commits is the only proof that
 * writes commit again (after a full disk, say).
 */
export class WriteProbe1765100000000 implements MigrationInterface {
  name = 'WriteProbe1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "write_probe" ("id" integer PRIMARY KEY NOT NULL, "probed_at" text NOT NULL)`,
    );
    await queryRunner.query(`INSERT INTO "write_probe" ("id", "probed_at") VALUES (1, '')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "write_probe"`);
  }
}
