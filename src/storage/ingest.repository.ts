// Ingest's writes in the database: the IngestStore the ingest service asks for (ingest/ingest-store.ts).
// Each unit of work gets an IngestRepository on its transaction's EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type {
  BatchRecord,
  IdempotencyRecord,
  IngestStore,
  IngestTransaction,
  PendingHit,
  RuleErrorTally,
  WriteOutcome,
} from '../ingest/ingest-store.js';
import { IdempotencyKeyEntity } from './entities.js';
import { writeBatch } from './hit-writer.js';
import { lockNames } from './sql.js';

/** A key is used by one request at a time, also across instances. */
const IDEMPOTENCY_LOCKS = 'idempotency';

export const openIngestStore = (database: Database): IngestStore =>
  new DatabaseStore(database, IngestRepository);

/** Ingest's SQL, in the transaction of one unit of work. */
export class IngestRepository implements IngestTransaction {
  constructor(private readonly manager: EntityManager) {}

  lockIdempotencyKey(key: string): Promise<void> {
    return lockNames(this.manager, IDEMPOTENCY_LOCKS, [key]);
  }

  findIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    return this.manager.findOne(IdempotencyKeyEntity, { where: { key } });
  }

  async rememberIdempotencyKey(fields: IdempotencyRecord): Promise<void> {
    const record = this.manager.create(IdempotencyKeyEntity, fields);
    await this.manager.save(record);
  }

  async forgetIdempotencyKeysBefore(cutoff: Date): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .delete()
      .from(IdempotencyKeyEntity)
      .where('created_at < :cutoff', { cutoff })
      .execute();
  }

  writeBatch(
    record: BatchRecord,
    hits: readonly PendingHit[],
    ruleErrors: ReadonlyMap<string, RuleErrorTally>,
  ): Promise<WriteOutcome> {
    return writeBatch(this.manager, record, hits, ruleErrors);
  }
}
