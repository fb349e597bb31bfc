// The audit trail in the database. Its write is one event row, in the transaction of the change it
// records, so that there is never a change without its record (or a record without its change): the
// repositories that make changes call insertAuditEvent. Its read is the AuditStore the audit service
// asks for (audit/audit-store.ts).
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type { AuditEventRecord, AuditStore, AuditTrailReader } from '../audit/audit-store.js';
import type { Actor, AuditEntry, AuditFilters } from '../audit/audit.service.js';
import { AuditEventEntity } from './entities.js';
import { chunksFor, dialectOf, query, sqlTime, valuesList } from './sql.js';

export async function insertAuditEvent(
  manager: EntityManager,
  actor: Actor,
  entry: AuditEntry,
): Promise<void> {
  const event = Object.assign(new AuditEventEntity(), {
    at: new Date(),
    keyId: actor.keyId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? null,
    requestId: actor.requestId,
  });
  await manager.save(event);
}

/** Many changes by one actor, in as few statements as the database's parameter limit allows. */
export async function insertAuditEvents(
  manager: EntityManager,
  actor: Actor,
  entries: readonly AuditEntry[],
): Promise<void> {
  const at = sqlTime(dialectOf(manager), Date.now());
  for (const chunk of chunksFor(entries, AUDIT_COLUMNS.length))
    await query(
      manager,
      `INSERT INTO "audit_events" (${AUDIT_COLUMNS.join(', ')}) VALUES ${valuesList(chunk.length, AUDIT_COLUMNS.length)}`,
      chunk.flatMap((entry) => [
        at,
        actor.keyId,
        entry.action,
        entry.targetType,
        entry.targetId,
        entry.details === undefined ? null : JSON.stringify(entry.details),
        actor.requestId,
      ]),
    );
}

const AUDIT_COLUMNS = [
  '"at"',
  '"key_id"',
  '"action"',
  '"target_type"',
  '"target_id"',
  '"details"',
  '"request_id"',
];

export const openAuditStore = (database: Database): AuditStore =>
  new DatabaseStore(database, AuditRepository);

/** The audit trail's reads, on the connection of one unit of work. */
export class AuditRepository implements AuditTrailReader {
  constructor(private readonly manager: EntityManager) {}

  newestEvents(filters: AuditFilters): Promise<AuditEventRecord[]> {
    const dialect = dialectOf(this.manager);
    const query = this.manager.getRepository(AuditEventEntity).createQueryBuilder('event');
    if (filters.action !== undefined) query.andWhere('event.action = :action', { action: filters.action });
    if (filters.keyId !== undefined) query.andWhere('event.keyId = :keyId', { keyId: filters.keyId });
    if (filters.targetType !== undefined)
      query.andWhere('event.targetType = :targetType', { targetType: filters.targetType });
    if (filters.targetId !== undefined)
      query.andWhere('event.targetId = :targetId', { targetId: filters.targetId });
    if (filters.since !== undefined)
      query.andWhere('event.at >= :since', { since: sqlTime(dialect, filters.since) });
    if (filters.until !== undefined)
      query.andWhere('event.at < :until', { until: sqlTime(dialect, filters.until) });
    // Ids grow with time, so the id alone orders the trail and places the cursor.
    if (filters.after !== undefined) query.andWhere('event.id < :after', { after: filters.after.id });
    return query
      .orderBy('event.id', 'DESC')
      .limit(filters.limit + 1)
      .getMany();
  }
}
