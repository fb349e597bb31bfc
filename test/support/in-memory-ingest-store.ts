// An IngestStore in memory, for unit specs of the ingest service: it keeps every batch it is given, as
// given, and the Idempotency-Keys; a write that throws leaves nothing behind.
import type {
  BatchRecord,
  IdempotencyRecord,
  IngestStore,
  IngestTransaction,
  PendingHit,
  RuleErrorTally,
  WriteOutcome,
} from '../../src/ingest/ingest-store.js';

export interface StoredBatch {
  id: number;
  record: BatchRecord;
  hits: readonly PendingHit[];
  ruleErrors: ReadonlyMap<string, RuleErrorTally>;
}

interface IngestTables {
  batches: StoredBatch[];
  idempotencyKeys: Map<string, IdempotencyRecord>;
}

export class InMemoryIngestStore implements IngestStore {
  private tables: IngestTables = { batches: [], idempotencyKeys: new Map() };
  private tail: Promise<unknown> = Promise.resolve();
  private nextBatchFailure: Error | undefined;

  get batches(): readonly StoredBatch[] {
    return this.tables.batches;
  }

  get idempotencyKeys(): ReadonlyMap<string, IdempotencyRecord> {
    return this.tables.idempotencyKeys;
  }

  /** Remembers a key as an earlier request would have. */
  seedIdempotencyKey(record: IdempotencyRecord): void {
    this.tables.idempotencyKeys.set(record.key, structuredClone(record));
  }

  /** The next batch write fails with this error, as a database fault would. */
  failNextBatch(error: Error): void {
    this.nextBatchFailure = error;
  }

  write<T>(work: (batches: IngestTransaction) => Promise<T>): Promise<T> {
    const run = async () => {
      const before: IngestTables = {
        batches: [...this.tables.batches],
        idempotencyKeys: new Map(this.tables.idempotencyKeys),
      };
      try {
        return await work(
          new InMemoryIngestTransaction(this.tables, () => {
            const failure = this.nextBatchFailure;
            this.nextBatchFailure = undefined;
            return failure;
          }),
        );
      } catch (error) {
        this.tables = before;
        throw error;
      }
    };
    // Units of work run one at a time, as SQLite runs them.
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

class InMemoryIngestTransaction implements IngestTransaction {
  constructor(
    private readonly tables: IngestTables,
    private readonly takeBatchFailure: () => Error | undefined,
  ) {}

  lockIdempotencyKey(): Promise<void> {
    return Promise.resolve();
  }

  findIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    const record = this.tables.idempotencyKeys.get(key);
    return Promise.resolve(record ? structuredClone(record) : null);
  }

  rememberIdempotencyKey(record: IdempotencyRecord): Promise<void> {
    if (this.tables.idempotencyKeys.has(record.key))
      return Promise.reject(new Error(`key ${record.key} exists`));
    this.tables.idempotencyKeys.set(record.key, structuredClone(record));
    return Promise.resolve();
  }

  forgetIdempotencyKeysBefore(cutoff: Date): Promise<void> {
    for (const [key, record] of this.tables.idempotencyKeys)
      if (record.createdAt < cutoff) this.tables.idempotencyKeys.delete(key);
    return Promise.resolve();
  }

  /** Stores every hit it is given: no alerts, no event-id dedup (that is the database's work). */
  writeBatch(
    record: BatchRecord,
    hits: readonly PendingHit[],
    ruleErrors: ReadonlyMap<string, RuleErrorTally>,
  ): Promise<WriteOutcome> {
    const failure = this.takeBatchFailure();
    if (failure) return Promise.reject(failure);
    const id = this.tables.batches.length + 1;
    this.tables.batches.push({ id, record, hits: [...hits], ruleErrors: new Map(ruleErrors) });
    const hitsStored = new Map<string, number>();
    for (const hit of hits) hitsStored.set(hit.ruleId, (hitsStored.get(hit.ruleId) ?? 0) + 1);
    return Promise.resolve({
      batchId: id,
      hitsStored: hits.length,
      duplicateHits: 0,
      alertsOpened: 0,
      alertsUpdated: 0,
      perRule: { hitsStored, alertsOpened: new Map() },
    });
  }
}
