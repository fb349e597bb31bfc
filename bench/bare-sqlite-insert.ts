// The floor of part 3: how fast SQLite itself takes the rows of a hit storm, through better-sqlite3 with
// nothing in between. The same columns and indexes as the service's hits and hit_fields tables, the same
// durability (WAL, every commit synced), one transaction per 1000 hits, prepared multi-row inserts.
import Database from 'better-sqlite3';

/**
 * The columns and indexes of the service's tables, written out here (never read from src/): hits and
 * hit_fields as migrations/sqlite/1764470000000-Ingest.ts creates them, with the indexes that
 * 1764480000000-Queries.ts adds. The foreign keys to ingest_batches, rule_versions and alerts are left
 * out, since the floor has no such rows to point at.
 */
const SCHEMA = [
  `CREATE TABLE "hits" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "batch_id" integer NOT NULL, "batch_seq" integer NOT NULL, "rule_id" varchar(200) NOT NULL, "rule_version_id" integer NOT NULL, "rule_version" integer NOT NULL, "severity" varchar(16) NOT NULL, "title" text NOT NULL, "dedup_key" text NOT NULL, "alert_id" integer, "log_type" varchar(100) NOT NULL, "event_time" datetime NOT NULL, "received_at" datetime NOT NULL, "event_id" varchar(128), "output_fields" text NOT NULL, "event" text NOT NULL)`,
  `CREATE UNIQUE INDEX "uq_hits_rule_event" ON "hits" ("rule_id", "event_id") WHERE "event_id" IS NOT NULL`,
  `CREATE UNIQUE INDEX "uq_hits_batch_seq" ON "hits" ("batch_id", "batch_seq")`,
  `CREATE INDEX "ix_hits_event_time" ON "hits" ("event_time", "id")`,
  `CREATE INDEX "ix_hits_rule_time" ON "hits" ("rule_id", "event_time", "id")`,
  `CREATE INDEX "ix_hits_alert" ON "hits" ("alert_id", "event_time", "id")`,
  `CREATE INDEX "ix_hits_severity_time" ON "hits" ("severity", "event_time", "id")`,
  `CREATE INDEX "ix_hits_log_type_time" ON "hits" ("log_type", "event_time", "id")`,
  `CREATE TABLE "hit_fields" ("hit_id" integer NOT NULL, "name" varchar(200) NOT NULL, "value" varchar(1000) NOT NULL, "event_time" datetime NOT NULL, PRIMARY KEY ("hit_id", "name", "value"))`,
  `CREATE INDEX "ix_hit_fields_lookup" ON "hit_fields" ("name", "value", "event_time", "hit_id")`,
];

const HIT_COLUMNS = [
  'batch_id',
  'batch_seq',
  'rule_id',
  'rule_version_id',
  'rule_version',
  'severity',
  'title',
  'dedup_key',
  'alert_id',
  'log_type',
  'event_time',
  'received_at',
  'event_id',
  'output_fields',
  'event',
];

export interface BareHit {
  ruleId: string;
  severity: string;
  title: string;
  dedupKey: string;
  logType: string;
  /** As the service stores times on SQLite: 'YYYY-MM-DD HH:MM:SS.SSS' in UTC. */
  eventTime: string;
  eventId: string | null;
  outputFields: string;
  event: string;
  fields: { name: string; value: string }[];
}

export interface BareInsertResult {
  seconds: number;
  hits: number;
  fieldRows: number;
}

/** Field rows per statement: 4 values each, well under SQLite's 32,766 bound values. */
const FIELD_ROWS_PER_STATEMENT = 2000;

function valuesList(rows: number, columns: number): string {
  const row = `(${new Array<string>(columns).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(row).join(', ');
}

/** Creates a fresh database at `file` and inserts `hits` in transactions of `batchSize`; times the inserts only. */
export function measureBareSqliteInsert(
  file: string,
  hits: readonly BareHit[],
  batchSize = 1000,
): BareInsertResult {
  const database = new Database(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('cache_size = -65536');
    for (const statement of SCHEMA) database.exec(statement);

    const hitStatements = new Map<number, Database.Statement>();
    const hitStatement = (rows: number) => {
      let statement = hitStatements.get(rows);
      if (!statement) {
        statement = database.prepare(
          `INSERT INTO "hits" (${HIT_COLUMNS.map((column) => `"${column}"`).join(', ')}) VALUES ${valuesList(rows, HIT_COLUMNS.length)} RETURNING "id"`,
        );
        hitStatements.set(rows, statement);
      }
      return statement;
    };
    const fieldStatements = new Map<number, Database.Statement>();
    const fieldStatement = (rows: number) => {
      let statement = fieldStatements.get(rows);
      if (!statement) {
        statement = database.prepare(
          `INSERT INTO "hit_fields" ("hit_id", "name", "value", "event_time") VALUES ${valuesList(rows, 4)}`,
        );
        fieldStatements.set(rows, statement);
      }
      return statement;
    };

    const receivedAt = new Date().toISOString().replace('T', ' ').slice(0, 23);
    let fieldRows = 0;
    const writeBatch = database.transaction((batchId: number, batch: readonly BareHit[]) => {
      const values = batch.flatMap((hit, position) => [
        batchId,
        position,
        hit.ruleId,
        1,
        1,
        hit.severity,
        hit.title,
        hit.dedupKey,
        null,
        hit.logType,
        hit.eventTime,
        receivedAt,
        hit.eventId,
        hit.outputFields,
        hit.event,
      ]);
      const ids = (hitStatement(batch.length).all(...values) as { id: number }[]).map((row) => row.id);
      const rows = batch.flatMap((hit, position) =>
        hit.fields.map((field) => [ids[position], field.name, field.value, hit.eventTime]),
      );
      for (let start = 0; start < rows.length; start += FIELD_ROWS_PER_STATEMENT) {
        const chunk = rows.slice(start, start + FIELD_ROWS_PER_STATEMENT);
        fieldStatement(chunk.length).run(...chunk.flat());
      }
      fieldRows += rows.length;
    });

    const started = process.hrtime.bigint();
    for (let start = 0, batchId = 1; start < hits.length; start += batchSize, batchId++)
      writeBatch(batchId, hits.slice(start, start + batchSize));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, hits: hits.length, fieldRows };
  } finally {
    database.close();
  }
}
