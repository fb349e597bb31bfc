import type { MigrationInterface, QueryRunner } from 'typeorm';

const ALERT_STATUS_CHANGES = [
  '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL',
  '"alert_id" integer NOT NULL',
  '"from_status" varchar(16) NOT NULL',
  '"to_status" varchar(16) NOT NULL',
  '"comment" text',
  '"changed_by_key" varchar(64)',
  '"changed_at" datetime NOT NULL',
  'CONSTRAINT "fk_alert_status_changes_alert" FOREIGN KEY ("alert_id") REFERENCES "alerts" ("id") ON DELETE CASCADE ON UPDATE NO ACTION',
];

/**
 * Queries over hits and alerts: an index per documented filter, each ending in the sort order
 * (newest event first, then id) so that keyset pages read straight from the index; and the alerts'
 * triage history.
 */
export class Queries1764480000000 implements MigrationInterface {
  name = 'Queries1764480000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_hits_severity_time" ON "hits" ("severity", "event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_hits_log_type_time" ON "hits" ("log_type", "event_time", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_alerts_time" ON "alerts" ("first_event_time", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_status_time" ON "alerts" ("status", "first_event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_rule_time" ON "alerts" ("rule_id", "first_event_time", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_alerts_severity_time" ON "alerts" ("severity", "first_event_time", "id")`,
    );
    await queryRunner.query(`CREATE TABLE "alert_status_changes" (${ALERT_STATUS_CHANGES.join(', ')})`);
    await queryRunner.query(
      `CREATE INDEX "ix_alert_status_changes_alert" ON "alert_status_changes" ("alert_id", "id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "alert_status_changes"`);
    for (const index of [
      'ix_alerts_severity_time',
      'ix_alerts_rule_time',
      'ix_alerts_status_time',
      'ix_alerts_time',
      'ix_hits_log_type_time',
      'ix_hits_severity_time',
    ]) {
      await queryRunner.query(`DROP INDEX "${index}"`);
    }
  }
}
