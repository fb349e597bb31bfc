// What the audit service needs from storage to read the trail back, in its own terms; it is written by
// the repository that makes each change, in that change's transaction. storage/audit.repository.ts
// reads it from the database.
import type { AuditEventEntity } from '../storage/entities.js';
import type { AuditFilters } from './audit.service.js';

/** Injection token of the AuditStore (an interface leaves nothing at run time to inject by). */
export const AUDIT_STORE = Symbol('AUDIT_STORE');

export interface AuditStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (trail: AuditTrailReader) => Promise<T>): Promise<T>;
}

/** An audit event as stored. */
export type AuditEventRecord = Pick<
  AuditEventEntity,
  'id' | 'at' | 'keyId' | 'action' | 'targetType' | 'targetId' | 'details' | 'requestId'
>;

export interface AuditTrailReader {
  /**
   * The events that pass the filters, newest first, after the filters' cursor: at most
   * `filters.limit + 1` of them, so that the caller knows whether more follow.
   */
  newestEvents(filters: AuditFilters): Promise<AuditEventRecord[]>;
}
