import type { MigrationInterface, QueryRunner } from 'typeorm';

// One line per statement in the form TypeORM writes (it reads SQLite's schema back from this text);
// column lists are spelt out one per line for review.
const table = (name: string, columns: readonly string[]) => `CREATE TABLE "${name}" (${columns.join(', ')})`;

const INGEST_BATCHES = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"received_at" datetime NOT NULL',
  '"received" integer NOT NULL',
  '"accepted" integer NOT NULL',
  '"rejected" integer NOT NULL',
  '"hits" integer NOT NULL',
  '"alerts_opened" integer NOT NULL',
  '"idempotency_key" varchar(200)',
];

const ALERTS = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"rule_id" varchar(200) NOT NULL',
  '"dedup_key" text NOT NULL',
  '"title" text NOT NULL',
  '"severity" varchar(16) NOT NULL',
  '"status" varchar(16) NOT NULL',
  '"first_event_time" datetime NOT NULL',
  '"last_event_time" datetime NOT NULL',
  '"window_end" datetime NOT NULL',
  '"hit_count" integer NOT NULL',
  '"threshold" integer NOT NULL',
  '"opened_at" datetime',
  '"created_at" datetime NOT NULL',
  '"updated_at" datetime NOT NULL',
];

const HITS = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"batch_id" integer NOT NULL',
  '"batch_seq" integer NOT NULL',
  '"rule_id" varchar(200) NOT NULL',
  '"rule_version_id" integer NOT NULL',
  '"rule_version" integer NOT NULL',
  '"severity" varchar(16) NOT NULL',
  '"title" text NOT NULL',
  '"dedup_key" text NOT NULL',
  '"alert_id" integer',
  '"log_type" varchar(100) NOT NULL',
  '"event_time" datetime NOT NULL',
  '"received_at" datetime NOT NULL',
  '"event_id" varchar(128)',
  '"output_fields" text NOT NULL',
  '"event" text NOT NULL',
  'CONSTRAINT "fk_hits_batch" FOREIGN KEY ("batch_id") REFERENCES "ingest_batches" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION',
  'CONSTRAINT "fk_hits_rule_version" FOREIGN KEY ("rule_version_id") REFERENCES "rule_versions" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION',
  'CONSTRAINT "fk_hits_alert" FOREIGN KEY ("alert_id") REFERENCES "alerts" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION',
];

const HIT_FIELDS = [
  '"hit_id" integer NOT NULL',
  '"name" varchar(200) NOT NULL',
  '"value" varchar(1000) NOT NULL',
  '"event_time" datetime NOT NULL',
  'CONSTRAINT "fk_hit_fields_hit" FOREIGN KEY ("hit_id") REFERENCES "hits" ("id") ON DELETE CASCADE ON UPDATE NO ACTION',
  'PRIMARY KEY ("hit_id", "name", "value")',
];

const IDEMPOTENCY_KEYS = [
  '"key" varchar(200) PRIMARY KEY NOT NULL',
  '"request_hash" varchar(64) NOT NULL',
  '"response" text NOT NULL',
  '"created_at" datetime NOT NULL',
];

/**
 * Ingest: batches, hits (with their output fields as indexed name/value rows), alerts, idempotency keys,
 * and per-rule error counts. A hit for one rule and one CloudTrail eventID is stored once.
 */
export class Ingest1764470000000 implements MigrationInterface {
  name = 'Ingest1764470000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(table('ingest_batches', INGEST_BATCHES));
    await queryRunner.query(table('alerts', ALERTS));
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_group" ON "alerts" ("rule_id", "dedup_key", "first_event_time")`,
    );
    await queryRunner.query(table('hits', HITS));
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_hits_rule_event" ON "hits" ("rule_id", "event_id") WHERE "event_id" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_hits_batch_seq" ON "hits" ("batch_id", "batch_seq")`);
    await queryRunner.query(`CREATE INDEX "ix_hits_event_time" ON "hits" ("event_time", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_hits_rule_time" ON "hits" ("rule_id", "event_time", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_hits_alert" ON "hits" ("alert_id", "event_time", "id")`);
    await queryRunner.query(table('hit_fields', HIT_FIELDS));
    await queryRunner.query(
      `CREATE INDEX "ix_hit_fields_lookup" ON "hit_fields" ("name", "value", "event_time", "hit_id")`,
    );
    await queryRunner.query(table('idempotency_keys', IDEMPOTENCY_KEYS));
    await queryRunner.query(
      `CREATE INDEX "ix_idempotency_keys_created" ON "idempotency_keys" ("created_at")`,
    );
    await queryRunner.query(`ALTER TABLE "rules" ADD COLUMN "error_count" integer NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "rules" ADD COLUMN "last_error" text`);
    await queryRunner.query(`ALTER TABLE "rules" ADD COLUMN "last_error_at" datetime`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rules" DROP COLUMN "last_error_at"`);
    await queryRunner.query(`ALTER TABLE "rules" DROP COLUMN "last_error"`);
    await queryRunner.query(`ALTER TABLE "rules" DROP COLUMN "error_count"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
    await queryRunner.query(`DROP TABLE "hit_fields"`);
    await queryRunner.query(`DROP TABLE "hits"`);
    await queryRunner.query(`DROP TABLE "alerts"`);
    await queryRunner.query(`DROP TABLE "ingest_batches"`);
  }
}
