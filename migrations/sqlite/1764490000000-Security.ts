import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys (only a hash of each secret) and the audit trail of changes to rules, keys and alerts. */
export class Security1764490000000 implements MigrationInterface {
  name = 'Security1764490000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" varchar(32) PRIMARY KEY NOT NULL, "name" varchar(100) NOT NULL, "scopes" text NOT NULL, "secret_hash" varchar(64) NOT NULL, "created_by_key" varchar(64), "created_at" datetime NOT NULL, "revoked_at" datetime, "last_used_at" datetime)`,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" datetime NOT NULL, "key_id" varchar(64) NOT NULL, "action" varchar(40) NOT NULL, "target_type" varchar(16) NOT NULL, "target_id" varchar(200) NOT NULL, "details" text, "request_id" varchar(64))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_audit_events_key" ON "audit_events" ("key_id", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_events_target" ON "audit_events" ("target_type", "target_id", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_audit_events_time" ON "audit_events" ("at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_audit_events_time"`);
    await queryRunner.query(`DROP INDEX "ix_audit_events_target"`);
    await queryRunner.query(`DROP INDEX "ix_audit_events_key"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
