// The audit trail: every change to rules, API keys and alerts, written by their repositories in the same
// transaction as the change itself (storage/audit.repository.ts), and read back here.
import { Inject, Injectable } from '@nestjs/common';
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
import type { AuditEventEntity } from '../storage/entities.js';
import { AUDIT_STORE, type AuditEventRecord, type AuditStore } from './audit-store.js';

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
  constructor(@Inject(AUDIT_STORE) private readonly store: AuditStore) {}

  /** Newest first, with keyset paging. */
  async list(filters: AuditFilters): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    const rows = await this.store.read((trail) => trail.newestEvents(filters));
    const page = rows.slice(0, filters.limit).map(auditEventView);
    const last = page.at(-1);
    return {
      items: page,
      nextCursor:
        rows.length > filters.limit && last ? encodeCursor({ time: Date.parse(last.at), id: last.id }) : null,
    };
  }
}

function auditEventView(event: AuditEventRecord): AuditEventView {
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
