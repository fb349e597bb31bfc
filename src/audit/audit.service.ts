// The audit trail: every change to rules, API keys and alerts, written in the same transaction as the
// change itself, so that there is never a change without its record (or a record without its change).
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  cursor,
  encodeCursor,
  instant,
  pageSize,
  rejectUnknown,
  single,
  type KeysetPosition,
  type RawQuery,
} from '../common/query-params.js';
import { InvalidParametersError } from '../common/errors.js';
import { insertAuditEvent } from '../storage/audit.repository.js';
import { Database } from '../storage/database.service.js';
import { AuditEventEntity } from '../storage/entities.js';
import { sqlTime } from '../storage/sql.js';

/** Who makes a change: the API key (or `system`) and the request, for the audit trail. */
export interface Actor {
  keyId: string;
  requestId: string | null;
}

/** What the service does by itself, e.g. installing the built-in pack or the first admin key. */
export const SYSTEM_ACTOR: Actor = { keyId: 'system', requestId: null };

export type AuditTargetType = AuditEventEntity['targetType'];

export interface AuditEntry {
  action: string;
  targetType: AuditTargetType;
  targetId: string;
  details?: Record<string, unknown>;
}

export interface AuditEventView {
  id: number;
  at: string;
  keyId: string;
  action: string;
  targetType: AuditTargetType;
  targetId: string;
  details: Record<string, unknown> | null;
  requestId: string | null;
}

export interface AuditFilters {
  action?: string;
  keyId?: string;
  targetType?: string;
  targetId?: string;
  since?: number;
  until?: number;
  limit: number;
  after?: KeysetPosition;
}

export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 1000;
const TARGET_TYPES: readonly AuditTargetType[] = ['rule', 'api_key', 'alert'];

export function parseAuditFilters(query: RawQuery): AuditFilters {
  rejectUnknown(query, ['action', 'keyId', 'targetType', 'targetId', 'since', 'until', 'limit', 'cursor']);
  const targetType = single(query, 'targetType');
  if (targetType !== undefined && !(TARGET_TYPES as readonly string[]).includes(targetType)) {
    throw new InvalidParametersError([
      { parameter: 'targetType', message: `targetType must be one of ${TARGET_TYPES.join(', ')}` },
    ]);
  }
  return {
    action: single(query, 'action'),
    keyId: single(query, 'keyId'),
    targetType,
    targetId: single(query, 'targetId'),
    since: instant(query, 'since'),
    until: instant(query, 'until'),
    limit: pageSize(query, 'limit', DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE),
    after: cursor(query, 'cursor'),
  };
}

@Injectable()
export class AuditService {
  constructor(private readonly database: Database) {}

  /** Records a change; call it inside the transaction that makes the change. */
  record(manager: EntityManager, actor: Actor, entry: AuditEntry): Promise<void> {
    return insertAuditEvent(manager, actor, entry);
  }

  /** Newest first, with keyset paging. */
  async list(filters: AuditFilters): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    const rows = await this.database.read((manager) => {
      const query = manager.getRepository(AuditEventEntity).createQueryBuilder('event');
      if (filters.action !== undefined) query.andWhere('event.action = :action', { action: filters.action });
      if (filters.keyId !== undefined) query.andWhere('event.keyId = :keyId', { keyId: filters.keyId });
      if (filters.targetType !== undefined)
        query.andWhere('event.targetType = :targetType', { targetType: filters.targetType });
      if (filters.targetId !== undefined)
        query.andWhere('event.targetId = :targetId', { targetId: filters.targetId });
      if (filters.since !== undefined)
        query.andWhere('event.at >= :since', { since: sqlTime(this.database.dialect, filters.since) });
      if (filters.until !== undefined)
        query.andWhere('event.at < :until', { until: sqlTime(this.database.dialect, filters.until) });
      // Ids grow with time, so the id alone orders the trail and places the cursor.
      if (filters.after !== undefined) query.andWhere('event.id < :after', { after: filters.after.id });
      return query
        .orderBy('event.id', 'DESC')
        .limit(filters.limit + 1)
        .getMany();
    });
    const page = rows.slice(0, filters.limit).map(auditEventView);
    const last = page.at(-1);
    return {
      items: page,
      nextCursor:
        rows.length > filters.limit && last ? encodeCursor({ time: Date.parse(last.at), id: last.id }) : null,
    };
  }
}

function auditEventView(event: AuditEventEntity): AuditEventView {
  return {
    id: event.id,
    at: event.at.toISOString(),
    keyId: event.keyId,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    details: event.details,
    requestId: event.requestId,
  };
}
