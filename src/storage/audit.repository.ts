// The audit trail's write: one event row, in the transaction of the change it records, so that there is
// never a change without its record (or a record without its change).
import type { EntityManager } from 'typeorm';
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import { AuditEventEntity } from './entities.js';

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
