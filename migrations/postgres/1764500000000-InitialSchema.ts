import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole schema on PostgreSQL, as the SQLite migrations leave it after Security1764490000000: the
 * same tables, indexes and constraints, by name. Times are timestamptz, JSON is json (kept as written;
 * see src/storage/column-types.ts), ids are serial.
 */
export class InitialSchema1764500000000 implements MigrationInterface {
  name = 'InitialSchema1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" character varying(32) NOT NULL, "name" character varying(100) NOT NULL, "scopes" json NOT NULL, "secret_hash" character varying(64) NOT NULL, "created_by_key" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" SERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "key_id" character varying(64) NOT NULL, "action" character varying(40) NOT NULL, "target_type" character varying(16) NOT NULL, "target_id" character varying(200) NOT NULL, "details" json, "request_id" character varying(64), CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_audit_events_key" ON "audit_events" ("key_id", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_events_target" ON "audit_events" ("target_type", "target_id", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_audit_events_time" ON "audit_events" ("at", "id")`);
    await queryRunner.query(
      `CREATE TABLE "alerts" ("id" SERIAL NOT NULL, "rule_id" character varying(200) NOT NULL, "dedup_key" text NOT NULL, "title" text NOT NULL, "severity" character varying(16) NOT NULL, "status" character varying(16) NOT NULL, "first_event_time" TIMESTAMP WITH TIME ZONE NOT NULL, "last_event_time" TIMESTAMP WITH TIME ZONE NOT NULL, "window_end" TIMESTAMP WITH TIME ZONE NOT NULL, "hit_count" integer NOT NULL, "threshold" integer NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_60f895662df096bfcdfab7f4b96" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_severity_time" ON "alerts" ("severity", "first_event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_rule_time" ON "alerts" ("rule_id", "first_event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_status_time" ON "alerts" ("status", "first_event_time", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_alerts_time" ON "alerts" ("first_event_time", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_group" ON "alerts" ("rule_id", "dedup_key", "first_event_time")`,
    );
    await queryRunner.query(
      `CREATE TABLE "alert_status_changes" ("id" SERIAL NOT NULL, "alert_id" integer NOT NULL, "from_status" character varying(16) NOT NULL, "to_status" character varying(16) NOT NULL, "comment" text, "changed_by_key" character varying(64), "changed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_e07f717769b963591175b6c228b" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alert_status_changes_alert" ON "alert_status_changes" ("alert_id", "id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "ingest_batches" ("id" SERIAL NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "received" integer NOT NULL, "accepted" integer NOT NULL, "rejected" integer NOT NULL, "hits" integer NOT NULL, "alerts_opened" integer NOT NULL, "idempotency_key" character varying(200), CONSTRAINT "PK_184779a7b0f00cff933f3121f38" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_versions" ("id" SERIAL NOT NULL, "rule_id" character varying(200) NOT NULL, "version" integer NOT NULL, "source_text" text NOT NULL, "source_format" character varying(8) NOT NULL, "content_hash" character varying(64) NOT NULL, "metadata" json NOT NULL, "origin" character varying(16) NOT NULL, "created_by_key" character varying(64), "tests_passed" integer NOT NULL, "tests_failed" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_f94078d9fb0f85dcdf3ceaec3ec" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_rule_versions_rule_version" ON "rule_versions" ("rule_id", "version")`,
    );
    await queryRunner.query(
      `CREATE TABLE "hits" ("id" SERIAL NOT NULL, "batch_id" integer NOT NULL, "batch_seq" integer NOT NULL, "rule_id" character varying(200) NOT NULL, "rule_version_id" integer NOT NULL, "rule_version" integer NOT NULL, "severity" character varying(16) NOT NULL, "title" text NOT NULL, "dedup_key" text NOT NULL, "alert_id" integer, "log_type" character varying(100) NOT NULL, "event_time" TIMESTAMP WITH TIME ZONE NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_id" character varying(128), "output_fields" json NOT NULL, "event" json NOT NULL, CONSTRAINT "PK_035aa41badd42e65e058171f02e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_hits_log_type_time" ON "hits" ("log_type", "event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_hits_severity_time" ON "hits" ("severity", "event_time", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_hits_alert" ON "hits" ("alert_id", "event_time", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_hits_rule_time" ON "hits" ("rule_id", "event_time", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_hits_event_time" ON "hits" ("event_time", "id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_hits_batch_seq" ON "hits" ("batch_id", "batch_seq")`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_hits_rule_event" ON "hits" ("rule_id", "event_id") WHERE "event_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "hit_fields" ("hit_id" integer NOT NULL, "name" character varying(200) NOT NULL, "value" character varying(1000) NOT NULL, "event_time" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_85152bc52b0796625d4d26dd8e0" PRIMARY KEY ("hit_id", "name", "value"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_hit_fields_lookup" ON "hit_fields" ("name", "value", "event_time", "hit_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("key" character varying(200) NOT NULL, "request_hash" character varying(64) NOT NULL, "response" json NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0afd83cbf08c9d12089a9bffc5e" PRIMARY KEY ("key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_idempotency_keys_created" ON "idempotency_keys" ("created_at")`,
    );
    await queryRunner.query(
      `CREATE TABLE "rules" ("rule_id" character varying(200) NOT NULL, "current_version" integer NOT NULL, "current_version_id" integer NOT NULL, "enabled" boolean NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "error_count" integer NOT NULL DEFAULT '0', "last_error" text, "last_error_at" TIMESTAMP WITH TIME ZONE, "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_54d6d536d457fab24b89cb3658c" PRIMARY KEY ("rule_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "alert_status_changes" ADD CONSTRAINT "fk_alert_status_changes_alert" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "hits" ADD CONSTRAINT "fk_hits_batch" FOREIGN KEY ("batch_id") REFERENCES "ingest_batches"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "hits" ADD CONSTRAINT "fk_hits_rule_version" FOREIGN KEY ("rule_version_id") REFERENCES "rule_versions"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "hits" ADD CONSTRAINT "fk_hits_alert" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "hit_fields" ADD CONSTRAINT "fk_hit_fields_hit" FOREIGN KEY ("hit_id") REFERENCES "hits"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rules" ADD CONSTRAINT "fk_rules_current_version" FOREIGN KEY ("current_version_id") REFERENCES "rule_versions"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rules" DROP CONSTRAINT "fk_rules_current_version"`);
    await queryRunner.query(`ALTER TABLE "hit_fields" DROP CONSTRAINT "fk_hit_fields_hit"`);
    await queryRunner.query(`ALTER TABLE "hits" DROP CONSTRAINT "fk_hits_alert"`);
    await queryRunner.query(`ALTER TABLE "hits" DROP CONSTRAINT "fk_hits_rule_version"`);
    await queryRunner.query(`ALTER TABLE "hits" DROP CONSTRAINT "fk_hits_batch"`);
    await queryRunner.query(
      `ALTER TABLE "alert_status_changes" DROP CONSTRAINT "fk_alert_status_changes_alert"`,
    );
    await queryRunner.query(`DROP TABLE "rules"`);
    await queryRunner.query(`DROP INDEX "public"."ix_idempotency_keys_created"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hit_fields_lookup"`);
    await queryRunner.query(`DROP TABLE "hit_fields"`);
    await queryRunner.query(`DROP INDEX "public"."uq_hits_rule_event"`);
    await queryRunner.query(`DROP INDEX "public"."uq_hits_batch_seq"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hits_event_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hits_rule_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hits_alert"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hits_severity_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_hits_log_type_time"`);
    await queryRunner.query(`DROP TABLE "hits"`);
    await queryRunner.query(`DROP INDEX "public"."uq_rule_versions_rule_version"`);
    await queryRunner.query(`DROP TABLE "rule_versions"`);
    await queryRunner.query(`DROP TABLE "ingest_batches"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alert_status_changes_alert"`);
    await queryRunner.query(`DROP TABLE "alert_status_changes"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_group"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_status_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_rule_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_severity_time"`);
    await queryRunner.query(`DROP TABLE "alerts"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_target"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_key"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
