// What the alerts service needs from storage, in its own terms. An AlertStore runs units of work; each
// gets an AlertTransaction whose reads and writes are all committed together, or none.
// storage/alerts.repository.ts keeps alerts in the database.
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import type { KeysetPosition } from '../common/query-params.js';
import type { AlertStatus, AlertStatusChangeEntity } from '../storage/entities.js';

/** Injection token of the AlertStore (an interface leaves nothing at run time to inject by). */
export const ALERT_STORE = Symbol('ALERT_STORE');

export interface AlertStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (alerts: AlertTransaction) => Promise<T>): Promise<T>;
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  write<T>(work: (alerts: AlertTransaction) => Promise<T>): Promise<T>;
}

export interface AlertFilters {
  statuses: AlertStatus[];
  ruleId?: string;
  severities?: string[];
  since?: number;
  until?: number;
  limit: number;
  after?: KeysetPosition;
}

/** An alert row as stored. */
export interface AlertRow {
  id: number;
  rule_id: string;
  dedup_key: string;
  title: string;
  severity: string;
  status: AlertStatus;
  /** Times are text on SQLite and Date on PostgreSQL (see storage/sql.ts). */
  first_event_time: unknown;
  last_event_time: unknown;
  hit_count: number;
  threshold: number;
  opened_at: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/** One change of an alert's status, as kept in its history. */
export type StatusChange = Pick<
  AlertStatusChangeEntity,
  'alertId' | 'fromStatus' | 'toStatus' | 'comment' | 'changedByKey' | 'changedAt'
>;

export interface AlertTransaction {
  /**
   * The alerts that pass the filters, newest first event first, after the filters' cursor: at most
   * `filters.limit + 1` of them, so that the caller knows whether more follow.
   */
  newestAlerts(filters: AlertFilters): Promise<AlertRow[]>;
  findAlert(id: number): Promise<AlertRow | null>;
  /** Waits for ingest (here or on another instance) adding hits to this alert, until the transaction ends. */
  lockAlertGroup(ruleId: string, dedupKey: string): Promise<void>;
  /** An alert's status changes, oldest first. */
  statusChanges(alertId: number): Promise<StatusChange[]>;
  /** Sets the alert's status (and its update time) and keeps the change in its history. */
  changeStatus(change: StatusChange): Promise<void>;
  /** Records a change in the audit trail, in this transaction. */
  recordAudit(actor: Actor, entry: AuditEntry): Promise<void>;
}
