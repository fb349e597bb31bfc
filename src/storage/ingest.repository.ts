// Ingest's writes in the database: the IngestStore the ingest service asks for (ingest/ingest-store.ts).
// Each unit of work gets an IngestRepository on its transaction's EntityManager; concurrent batches may
// share one transaction and its COMMIT, so a unit of work may run twice (see IngestStore.write).
import { Database } from './database.service.js';
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
import { TableStatistics } from './table-statistics.js';

/** A key is used by one request at a time, also across instances. */
const IDEMPOTENCY_LOCKS = 'idempotency';

/** The tables whose statistics plan the queries over hits and alerts. */
const ANALYZED_TABLES = 'ANALYZE "hits", "hit_fields", "alerts"';

/**
 * Batches are grouped: many small ones share one synced COMMIT (storage/group-commit.ts). On PostgreSQL
 * the hits stored keep the tables' statistics fresh (table-statistics.ts).
 */
export const openIngestStore = (database: Database): IngestStore => {
  const statistics =
    database.dialect === 'postgres'
      ? new TableStatistics(async () => {
          await database.dataSource.query(ANALYZED_TABLES);
        })
      : undefined;
  return {
    write: (work) => database.writeGrouped((manager) => work(new IngestRepository(manager, statistics))),
  };
};

/** Ingest's SQL, in the transaction of one unit of work. */
export class IngestRepository implements IngestTransaction {
  constructor(
    private readonly manager: EntityManager,
    private readonly statistics?: TableStatistics,
  ) {}

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

  async writeBatch(
    record: BatchRecord,
    hits: readonly PendingHit[],
    ruleErrors: ReadonlyMap<string, RuleErrorTally>,
  ): Promise<WriteOutcome> {
    const outcome = await writeBatch(this.manager, record, hits, ruleErrors);
    this.statistics?.noteWritten(outcome.hitsStored);
    return outcome;
  }
}
