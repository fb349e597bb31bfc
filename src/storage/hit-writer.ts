// Stores one batch inside the caller's transaction: the batch row, its hits (one per rule and event id
// ever), their searchable fields, the alerts they open or extend, and per-rule error counts.
// Which alert a hit joins is decided by the plain grouping logic in ingest/alert-grouping.ts.
import type { EntityManager } from 'typeorm';
import type { Severity } from '../engine/rule.js';
import { ALERT_GROUP_LOCKS, assignAlerts, groupKey, type AlertState } from '../ingest/alert-grouping.js';
import { indexedFields, type FieldRow } from '../ingest/hit-fields.js';
import type { BatchRecord, PendingHit, RuleErrorTally, WriteOutcome } from '../ingest/ingest-store.js';
import {
  dialectOf,
  insertReturningIds,
  insertRows,
  lockNames,
  query,
  readTime,
  rowsFrom,
  sqlTime,
  type SetColumn,
} from './sql.js';

interface AlertRow {
  id: number;
  rule_id: string;
  dedup_key: string;
  title: string;
  severity: Severity;
  status: AlertState['status'];
  first_event_time: string;
  last_event_time: string;
  window_end: string;
  hit_count: number;
  threshold: number;
  opened_at: string | null;
}

const HIT_COLUMNS: readonly SetColumn[] = [
  { name: 'batch_id', type: 'integer' },
  { name: 'batch_seq', type: 'integer' },
  { name: 'rule_id', type: 'text' },
  { name: 'rule_version_id', type: 'integer' },
  { name: 'rule_version', type: 'integer' },
  { name: 'severity', type: 'text' },
  { name: 'title', type: 'text' },
  { name: 'dedup_key', type: 'text' },
  { name: 'alert_id', type: 'integer' },
  { name: 'log_type', type: 'text' },
  { name: 'event_time', type: 'timestamptz' },
  { name: 'received_at', type: 'timestamptz' },
  { name: 'event_id', type: 'text' },
  { name: 'output_fields', type: 'json' },
  { name: 'event', type: 'json' },
];

const FIELD_COLUMNS: readonly SetColumn[] = [
  { name: 'hit_id', type: 'integer' },
  { name: 'name', type: 'text' },
  { name: 'value', type: 'text' },
  { name: 'event_time', type: 'timestamptz' },
];

const NEW_ALERT_COLUMNS: readonly SetColumn[] = [
  { name: 'rule_id', type: 'text' },
  { name: 'dedup_key', type: 'text' },
  { name: 'title', type: 'text' },
  { name: 'severity', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'first_event_time', type: 'timestamptz' },
  { name: 'last_event_time', type: 'timestamptz' },
  { name: 'window_end', type: 'timestamptz' },
  { name: 'hit_count', type: 'integer' },
  { name: 'threshold', type: 'integer' },
  { name: 'opened_at', type: 'timestamptz' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

/** What a batch changes in an alert it extends. */
const CHANGED_ALERT_COLUMNS: readonly SetColumn[] = [
  { name: 'id', type: 'integer' },
  { name: 'severity', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'first_event_time', type: 'timestamptz' },
  { name: 'last_event_time', type: 'timestamptz' },
  { name: 'hit_count', type: 'integer' },
  { name: 'opened_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

const GROUP_COLUMNS: readonly SetColumn[] = [
  { name: 'rule_id', type: 'text' },
  { name: 'dedup_key', type: 'text' },
];

export async function writeBatch(
  manager: EntityManager,
  record: BatchRecord,
  pending: readonly PendingHit[],
  ruleErrors: ReadonlyMap<string, RuleErrorTally>,
): Promise<WriteOutcome> {
  const dialect = dialectOf(manager);
  const now = record.receivedAt;
  const [{ id: batchId }] = await query<[{ id: number }]>(
    manager,
    'INSERT INTO "ingest_batches" ("received_at", "received", "accepted", "rejected", "hits", "alerts_opened", "idempotency_key") VALUES (?, ?, ?, ?, 0, 0, ?) RETURNING "id"',
    [
      sqlTime(dialect, now.getTime()),
      record.received,
      record.accepted,
      record.rejected,
      record.idempotencyKey,
    ],
  );

  const hits = await withoutStoredEventIds(manager, pending);
  const duplicateHits = pending.length - hits.length;
  // The JSON and field rows are made before the alert groups are locked: on PostgreSQL the batches that
  // share a group wait for each other from that lock to COMMIT, so the work under it is kept to SQL.
  const texts = hitTexts(hits);

  const existing = await loadOpenAlerts(manager, hits);
  const alerts = assignAlerts(hits, existing, now);
  const touched = [...new Set(alerts.filter((alert): alert is AlertState => alert !== undefined))];
  await insertAlerts(
    manager,
    touched.filter((alert) => alert.isNew),
    now,
  );

  const storedIds = await insertHits(manager, batchId, hits, texts, alerts, now.getTime());
  await insertFields(manager, hits, texts, storedIds);
  await updateAlerts(
    manager,
    touched.filter((alert) => !alert.isNew),
    now,
  );
  await recordRuleErrors(manager, ruleErrors, now);

  const opened = touched.filter((alert) => alert.openedNow);
  const alertsOpened = opened.length;
  // The row was written with 0 and 0: most small batches have no hit, and need no second statement.
  if (storedIds.size > 0 || alertsOpened > 0)
    await query(manager, 'UPDATE "ingest_batches" SET "hits" = ?, "alerts_opened" = ? WHERE "id" = ?', [
      storedIds.size,
      alertsOpened,
      batchId,
    ]);
  return {
    batchId,
    hitsStored: storedIds.size,
    duplicateHits: duplicateHits + (hits.length - storedIds.size),
    alertsOpened,
    alertsUpdated: touched.filter((alert) => !alert.isNew && !alert.openedNow && alert.status !== 'pending')
      .length,
    perRule: {
      hitsStored: countByRule([...storedIds.keys()].map((position) => (hits[position] as PendingHit).ruleId)),
      alertsOpened: countByRule(opened.map((alert) => alert.ruleId)),
    },
  };
}

/** Drops hits whose (rule, eventID) is stored already, or repeats an earlier one of this batch. */
async function withoutStoredEventIds(
  manager: EntityManager,
  pending: readonly PendingHit[],
): Promise<PendingHit[]> {
  const seen = new Set<string>();
  const pairs = new Map<string, [string, string]>();
  for (const hit of pending) {
    if (hit.eventId !== null) pairs.set(`${hit.ruleId}\u0000${hit.eventId}`, [hit.ruleId, hit.eventId]);
  }
  if (pairs.size > 0) {
    const wanted = rowsFrom(
      dialectOf(manager),
      'wanted',
      [
        { name: 'rule_id', type: 'text' },
        { name: 'event_id', type: 'text' },
      ],
      [...pairs.values()],
    );
    // One search of uq_hits_rule_event per (rule, event id) of the batch.
    const rows = await query<{ rule_id: string; event_id: string }[]>(
      manager,
      `SELECT "h"."rule_id", "h"."event_id" FROM ${wanted.sql} JOIN "hits" "h" ON "h"."rule_id" = "wanted"."rule_id" AND "h"."event_id" = "wanted"."event_id"`,
      wanted.parameters,
    );
    for (const row of rows) seen.add(`${row.rule_id}\u0000${row.event_id}`);
  }
  return pending.filter((hit) => {
    if (hit.eventId === null) return true;
    const key = `${hit.ruleId}\u0000${hit.eventId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Alerts that hits of this batch may join: same rule and dedup key, window still open at the batch's earliest event. */
async function loadOpenAlerts(
  manager: EntityManager,
  hits: readonly PendingHit[],
): Promise<Map<string, AlertState[]>> {
  const dialect = dialectOf(manager);
  const groups = new Map<string, { ruleId: string; dedupKey: string }>();
  let earliest = Number.POSITIVE_INFINITY;
  for (const hit of hits) {
    if (!hit.policy.createAlert) continue;
    groups.set(groupKey(hit.ruleId, hit.dedupKey), { ruleId: hit.ruleId, dedupKey: hit.dedupKey });
    earliest = Math.min(earliest, hit.eventTime);
  }
  // Another instance may be grouping hits of the same rule and dedup key at this moment: one at a time.
  await lockNames(manager, ALERT_GROUP_LOCKS, groups.keys());
  const existing = new Map<string, AlertState[]>();
  if (groups.size > 0) {
    const wanted = rowsFrom(
      dialect,
      'wanted',
      GROUP_COLUMNS,
      [...groups.values()].map((group) => [group.ruleId, group.dedupKey]),
    );
    const rows = await query<AlertRow[]>(
      manager,
      // Joined from the wanted groups, so that each is one search of ix_alerts_group: a row-value IN
      // list would make SQLite scan every alert.
      `SELECT "a".* FROM ${wanted.sql} JOIN "alerts" "a" ON "a"."rule_id" = "wanted"."rule_id" AND "a"."dedup_key" = "wanted"."dedup_key" WHERE "a"."status" != 'closed' AND "a"."window_end" > ?`,
      [...wanted.parameters, sqlTime(dialect, earliest)],
    );
    for (const row of rows) {
      const key = groupKey(row.rule_id, row.dedup_key);
      const list = existing.get(key) ?? [];
      list.push({
        id: row.id,
        ruleId: row.rule_id,
        dedupKey: row.dedup_key,
        title: row.title,
        severity: row.severity,
        status: row.status,
        firstEventTime: readTime(row.first_event_time),
        lastEventTime: readTime(row.last_event_time),
        windowEnd: readTime(row.window_end),
        hitCount: row.hit_count,
        threshold: row.threshold,
        openedAt: row.opened_at === null ? null : new Date(readTime(row.opened_at)),
        isNew: false,
        changed: false,
        openedNow: false,
      });
      existing.set(key, list);
    }
  }
  return existing;
}

/** Stores the batch's new alerts and gives each its id. */
async function insertAlerts(manager: EntityManager, alerts: readonly AlertState[], now: Date): Promise<void> {
  const dialect = dialectOf(manager);
  const at = sqlTime(dialect, now.getTime());
  const ids = await insertReturningIds(
    manager,
    'alerts',
    NEW_ALERT_COLUMNS,
    alerts.map((alert) => [
      alert.ruleId,
      alert.dedupKey,
      alert.title,
      alert.severity,
      alert.status,
      sqlTime(dialect, alert.firstEventTime),
      sqlTime(dialect, alert.lastEventTime),
      sqlTime(dialect, alert.windowEnd),
      alert.hitCount,
      alert.threshold,
      alert.openedAt ? sqlTime(dialect, alert.openedAt.getTime()) : null,
      at,
      at,
    ]),
  );
  alerts.forEach((alert, index) => (alert.id = ids[index]));
}

/** Writes what the batch changed in the alerts it extended, all in one statement. */
async function updateAlerts(manager: EntityManager, alerts: readonly AlertState[], now: Date): Promise<void> {
  if (alerts.length === 0) return;
  const dialect = dialectOf(manager);
  const at = sqlTime(dialect, now.getTime());
  const changed = rowsFrom(
    dialect,
    'changed',
    CHANGED_ALERT_COLUMNS,
    alerts.map((alert) => [
      alert.id,
      alert.severity,
      alert.status,
      sqlTime(dialect, alert.firstEventTime),
      sqlTime(dialect, alert.lastEventTime),
      alert.hitCount,
      alert.openedAt ? sqlTime(dialect, alert.openedAt.getTime()) : null,
      at,
    ]),
  );
  const assignments = CHANGED_ALERT_COLUMNS.filter((column) => column.name !== 'id')
    .map((column) => `"${column.name}" = "changed"."${column.name}"`)
    .join(', ');
  await query(
    manager,
    `UPDATE "alerts" SET ${assignments} FROM ${changed.sql} WHERE "alerts"."id" = "changed"."id"`,
    changed.parameters,
  );
}

/**
 * A statement's values stay below about this many characters of JSON: hits carry their events (up to
 * INGEST_MAX_EVENT_CHARS each), so a statement is cut by size as well as by its number of values.
 */
const MAX_STATEMENT_JSON_CHARS = 32 * 1024 * 1024;

/** What each hit is stored as, by position: its output fields' and event's JSON, and its field rows. */
interface HitTexts {
  outputFields: string[];
  events: string[];
  fields: FieldRow[][];
}

function hitTexts(hits: readonly PendingHit[]): HitTexts {
  // Several rules may match one event: its JSON is made once.
  const eventJson = new Map<Record<string, unknown>, string>();
  const jsonOf = (event: Record<string, unknown>) => {
    let json = eventJson.get(event);
    if (json === undefined) {
      json = JSON.stringify(event);
      eventJson.set(event, json);
    }
    return json;
  };
  return {
    outputFields: hits.map((hit) => JSON.stringify(hit.outputFields)),
    events: hits.map((hit) => jsonOf(hit.event)),
    fields: hits.map((hit) => indexedFields(hit.outputFields, hit.event)),
  };
}

/** Inserts the hits; returns the stored id of each, by position in `hits`. */
async function insertHits(
  manager: EntityManager,
  batchId: number,
  hits: readonly PendingHit[],
  texts: HitTexts,
  alerts: readonly (AlertState | undefined)[],
  receivedAt: number,
): Promise<Map<number, number>> {
  const dialect = dialectOf(manager);
  const ids = new Map<number, number>();
  const received = sqlTime(dialect, receivedAt);
  let rows: unknown[][] = [];
  let chars = 0;
  const insert = async () => {
    // ON CONFLICT: another writer stored the same (rule, eventID) first; that hit is simply not stored twice.
    const stored = await insertRows<{ id: number; batch_seq: number }>(
      manager,
      'hits',
      HIT_COLUMNS,
      rows,
      'ON CONFLICT DO NOTHING RETURNING "id", "batch_seq"',
    );
    for (const row of stored) ids.set(row.batch_seq, row.id);
    rows = [];
    chars = 0;
  };
  for (const [position, hit] of hits.entries()) {
    const outputFields = texts.outputFields[position] as string;
    const event = texts.events[position] as string;
    rows.push([
      batchId,
      position,
      hit.ruleId,
      hit.ruleVersionId,
      hit.ruleVersion,
      hit.severity,
      hit.title,
      hit.dedupKey,
      alerts[position]?.id ?? null,
      hit.logType,
      sqlTime(dialect, hit.eventTime),
      received,
      hit.eventId,
      outputFields,
      event,
    ]);
    chars += outputFields.length + event.length;
    if (chars >= MAX_STATEMENT_JSON_CHARS) await insert();
  }
  await insert();
  return ids;
}

async function insertFields(
  manager: EntityManager,
  hits: readonly PendingHit[],
  texts: HitTexts,
  ids: ReadonlyMap<number, number>,
): Promise<void> {
  const dialect = dialectOf(manager);
  const rows: unknown[][] = [];
  hits.forEach((hit, position) => {
    const id = ids.get(position);
    if (id === undefined) return;
    const eventTime = sqlTime(dialect, hit.eventTime);
    for (const field of texts.fields[position] ?? []) rows.push([id, field.name, field.value, eventTime]);
  });
  await insertRows(manager, 'hit_fields', FIELD_COLUMNS, rows);
}

async function recordRuleErrors(
  manager: EntityManager,
  errors: ReadonlyMap<string, RuleErrorTally>,
  now: Date,
): Promise<void> {
  const dialect = dialectOf(manager);
  for (const [ruleId, tally] of errors) {
    await query(
      manager,
      'UPDATE "rules" SET "error_count" = "error_count" + ?, "last_error" = ?, "last_error_at" = ? WHERE "rule_id" = ?',
      [tally.count, tally.lastError.slice(0, 2000), sqlTime(dialect, now.getTime()), ruleId],
    );
  }
}

function countByRule(ruleIds: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ruleId of ruleIds) counts.set(ruleId, (counts.get(ruleId) ?? 0) + 1);
  return counts;
}
