import { readJsonObject, readTime } from '../storage/sql.js';

/** A hit row as read by the query services. */
export interface HitRow {
  id: number;
  rule_id: string;
  rule_version: number;
  rule_version_id: number;
  severity: string;
  title: string;
  dedup_key: string;
  alert_id: number | null;
  log_type: string;
  /** Text on SQLite; Date and parsed jsonb on PostgreSQL (see storage/sql.ts). */
  event_time: unknown;
  received_at: unknown;
  output_fields: unknown;
  event: unknown;
}

export interface HitView {
  id: number;
  ruleId: string;
  ruleVersion: number;
  severity: string;
  title: string;
  dedupKey: string;
  alertId: number | null;
  logType: string;
  eventTime: string;
  receivedAt: string;
  outputFields: Record<string, unknown>;
  event: Record<string, unknown>;
}

/** A stored time as ISO 8601; a value that is not a time (never written by this service) is shown as stored. */
export function isoTime(value: unknown): string {
  const time = readTime(value);
  return Number.isNaN(time) ? String(value) : new Date(time).toISOString();
}

export function hitView(row: HitRow): HitView {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleVersion: row.rule_version,
    severity: row.severity,
    title: row.title,
    dedupKey: row.dedup_key,
    alertId: row.alert_id,
    logType: row.log_type,
    eventTime: isoTime(row.event_time),
    receivedAt: isoTime(row.received_at),
    outputFields: readJsonObject(row.output_fields),
    event: readJsonObject(row.event),
  };
}

/**
 * JSON.stringify(hitView(row)), without parsing the stored JSON only to write it out again: on SQLite the
 * output fields and the event are the text JSON.stringify gave when the hit was stored, and go into the
 * answer as they are (PostgreSQL's jsonb comes back parsed, and is written out). The page of 100 hits
 * that GET /v1/hits answers holds their events, a few hundred kB: parsing and writing them again was
 * most of a read's time.
 */
export function hitJson(row: HitRow): string {
  const text = JSON.stringify;
  return (
    `{"id":${text(row.id)},"ruleId":${text(row.rule_id)},"ruleVersion":${text(row.rule_version)}` +
    `,"severity":${text(row.severity)},"title":${text(row.title)},"dedupKey":${text(row.dedup_key)}` +
    `,"alertId":${text(row.alert_id)},"logType":${text(row.log_type)}` +
    `,"eventTime":${text(isoTime(row.event_time))},"receivedAt":${text(isoTime(row.received_at))}` +
    `,"outputFields":${storedJson(row.output_fields)},"event":${storedJson(row.event)}}`
  );
}

/** A stored JSON object as JSON text: SQLite's text as it is, PostgreSQL's parsed jsonb written out. */
function storedJson(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
