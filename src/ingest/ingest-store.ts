// What the ingest service needs from storage, in its own terms: in one transaction, the Idempotency-Key
// bookkeeping and the write of one evaluated batch. storage/ingest.repository.ts keeps them in the
// database; the unit specs keep them in memory.
import type { IdempotencyKeyEntity } from '../storage/entities.js';
import type { GroupableHit } from './alert-grouping.js';

/** Injection token of the IngestStore (an interface leaves nothing at run time to inject by). */
export const INGEST_STORE = Symbol('INGEST_STORE');

export interface IngestStore {
  /**
   * Runs `work` in one transaction: all of it is committed, or none of it. Other batches' work may share
   * that transaction, and `work` may run more than once (again alone, when work it was grouped with
   * failed), so it must keep nothing from a run but its result.
   */
  write<T>(work: (batches: IngestTransaction) => Promise<T>): Promise<T>;
}

export interface PendingHit extends GroupableHit {
  ruleVersionId: number;
  ruleVersion: number;
  logType: string;
  /** The event's id from its log type (CloudTrail's eventID), when it has one. */
  eventId: string | null;
  outputFields: Record<string, unknown>;
  event: Record<string, unknown>;
}

export interface RuleErrorTally {
  count: number;
  lastError: string;
}

export interface BatchRecord {
  receivedAt: Date;
  received: number;
  accepted: number;
  rejected: number;
  idempotencyKey: string | null;
}

export interface WriteOutcome {
  batchId: number;
  hitsStored: number;
  /** Hits not stored again: the same rule already matched the same event id. */
  duplicateHits: number;
  alertsOpened: number;
  alertsUpdated: number;
  /** The same, per rule, for the metrics. */
  perRule: { hitsStored: Map<string, number>; alertsOpened: Map<string, number> };
}

/** A request made with an Idempotency-Key, and the answer it was given. */
export type IdempotencyRecord = Pick<IdempotencyKeyEntity, 'key' | 'requestHash' | 'response' | 'createdAt'>;

export interface IngestTransaction {
  /** Holds the key until the transaction ends: a retry reaching another instance waits for this one. */
  lockIdempotencyKey(key: string): Promise<void>;
  findIdempotencyKey(key: string): Promise<IdempotencyRecord | null>;
  rememberIdempotencyKey(record: IdempotencyRecord): Promise<void>;
  /** Forgets the keys remembered before `cutoff`. */
  forgetIdempotencyKeysBefore(cutoff: Date): Promise<void>;
  /**
   * Stores the batch row, its hits (one per rule and event id, ever), their searchable fields, the alerts
   * they open or extend, and the per-rule error counts.
   */
  writeBatch(
    record: BatchRecord,
    hits: readonly PendingHit[],
    ruleErrors: ReadonlyMap<string, RuleErrorTally>,
  ): Promise<WriteOutcome>;
}
