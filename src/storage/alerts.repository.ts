// Alerts in the database: the AlertStore the alerts service asks for (alerts/alert-store.ts). Each unit
// of work gets an AlertsRepository on its transaction's EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type {
  AlertFilters,
  AlertRow,
  AlertStore,
  AlertTransaction,
  StatusChange,
} from '../alerts/alert-store.js';
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import { ALERT_GROUP_LOCKS, groupKey } from '../ingest/alert-grouping.js';
import { insertAuditEvent } from './audit.repository.js';
import { AlertStatusChangeEntity } from './entities.js';
import { dialectOf, lockNames, query, sqlTime } from './sql.js';

export const openAlertStore = (database: Database): AlertStore =>
  new DatabaseStore(database, AlertsRepository);

/** The alerts' SQL, in the transaction (or, for reads, on the connection) of one unit of work. */
export class AlertsRepository implements AlertTransaction {
  constructor(private readonly manager: EntityManager) {}

  newestAlerts(filters: AlertFilters): Promise<AlertRow[]> {
    const dialect = dialectOf(this.manager);
    const where: string[] = [`"status" IN (${filters.statuses.map(() => '?').join(', ')})`];
    const parameters: unknown[] = [...filters.statuses];
    if (filters.ruleId !== undefined) {
      where.push('"rule_id" = ?');
      parameters.push(filters.ruleId);
    }
    if (filters.severities) {
      where.push(`"severity" IN (${filters.severities.map(() => '?').join(', ')})`);
      parameters.push(...filters.severities);
    }
    if (filters.since !== undefined) {
      // An alert is in the range when its events overlap it.
      where.push('"last_event_time" >= ?');
      parameters.push(sqlTime(dialect, filters.since));
    }
    if (filters.until !== undefined) {
      where.push('"first_event_time" < ?');
      parameters.push(sqlTime(dialect, filters.until));
    }
    if (filters.after) {
      const at = sqlTime(dialect, filters.after.time);
      where.push('("first_event_time" < ? OR ("first_event_time" = ? AND "id" < ?))');
      parameters.push(at, at, filters.after.id);
    }
    parameters.push(filters.limit + 1);
    return query<AlertRow[]>(
      this.manager,
      `SELECT * FROM "alerts" WHERE ${where.join(' AND ')} ORDER BY "first_event_time" DESC, "id" DESC LIMIT ?`,
      parameters,
    );
  }

  async findAlert(id: number): Promise<AlertRow | null> {
    const [row] = await query<AlertRow[]>(this.manager, 'SELECT * FROM "alerts" WHERE "id" = ?', [id]);
    return row ?? null;
  }

  lockAlertGroup(ruleId: string, dedupKey: string): Promise<void> {
    return lockNames(this.manager, ALERT_GROUP_LOCKS, [groupKey(ruleId, dedupKey)]);
  }

  statusChanges(alertId: number): Promise<StatusChange[]> {
    return this.manager.find(AlertStatusChangeEntity, { where: { alertId }, order: { id: 'ASC' } });
  }

  async changeStatus(change: StatusChange): Promise<void> {
    await query(this.manager, 'UPDATE "alerts" SET "status" = ?, "updated_at" = ? WHERE "id" = ?', [
      change.toStatus,
      sqlTime(dialectOf(this.manager), change.changedAt.getTime()),
      change.alertId,
    ]);
    await this.manager.save(this.manager.create(AlertStatusChangeEntity, change));
  }

  recordAudit(actor: Actor, entry: AuditEntry): Promise<void> {
    return insertAuditEvent(this.manager, actor, entry);
  }
}
