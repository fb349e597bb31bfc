import { parseSqliteTimestamp } from '../storage/sql.js';

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
  event_time: string;
  received_at: string;
  output_fields: string;
  event: string;
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
export function isoTime(text: string): string {
  const time = parseSqliteTimestamp(text);
  return Number.isNaN(time) ? text : new Date(time).toISOString();
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
    outputFields: JSON.parse(row.output_fields) as Record<string, unknown>,
    event: JSON.parse(row.event) as Record<string, unknown>,
  };
}
