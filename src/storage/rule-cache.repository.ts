// The rules' cache (engine/python/rule-cache.ts) in the database, so that every worker of every instance
// shares it: a rule counting logins sees the ones counted on another instance. A read takes the entry as
// it is; a write reads, changes and stores it in one transaction, the key locked on PostgreSQL.
import type { EntityManager } from 'typeorm';
import type { CacheHandler } from '../engine/python/python-worker.js';
import { applyCacheOperation, cacheKeyOf, type CacheEntry } from '../engine/python/rule-cache.js';
import type { Database } from './database.service.js';
import { dialectOf, query, readCount } from './sql.js';

interface CacheRow {
  counter: unknown;
  strings: string;
  dictionary: string;
  expires_at: unknown;
}

/** Expired entries are swept after about this many writes. */
const WRITES_PER_SWEEP = 1000;

export class DatabaseRuleCache {
  private writes = 0;

  constructor(
    private readonly database: Database,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  readonly handle: CacheHandler = async (operation, args) => {
    const key = cacheKeyOf(args);
    if (operation.startsWith('get_')) {
      return this.database.read(async (manager) => {
        const stored = await this.entry(manager, key, false);
        return applyCacheOperation(operation, args, stored, this.nowSeconds()).result;
      });
    }
    const sweep = ++this.writes % WRITES_PER_SWEEP === 0;
    return this.database.write(async (manager) => {
      const now = this.nowSeconds();
      // A row to lock, present or not: an expired placeholder reads as absent.
      await query(
        manager,
        `INSERT INTO "rule_cache_entries" ("cache_key", "counter", "strings", "dictionary", "expires_at") VALUES (?, 0, '[]', '{}', 0) ON CONFLICT ("cache_key") DO NOTHING`,
        [key],
      );
      const stored = await this.entry(manager, key, true);
      const outcome = applyCacheOperation(operation, args, stored, now);
      if (outcome.store) {
        await query(
          manager,
          `UPDATE "rule_cache_entries" SET "counter" = ?, "strings" = ?, "dictionary" = ?, "expires_at" = ? WHERE "cache_key" = ?`,
          [
            outcome.store.counter,
            JSON.stringify(outcome.store.strings),
            JSON.stringify(outcome.store.dictionary),
            Math.min(outcome.store.expiresAt, Number.MAX_SAFE_INTEGER),
            key,
          ],
        );
      }
      if (sweep)
        await query(
          manager,
          `DELETE FROM "rule_cache_entries" WHERE "expires_at" <= ? AND "cache_key" <> ?`,
          [now, key],
        );
      return outcome.result;
    });
  };

  private async entry(
    manager: EntityManager,
    key: string,
    forUpdate: boolean,
  ): Promise<CacheEntry | undefined> {
    const lock = forUpdate && dialectOf(manager) === 'postgres' ? ' FOR UPDATE' : '';
    const [row] = await query<CacheRow[]>(
      manager,
      `SELECT "counter", "strings", "dictionary", "expires_at" FROM "rule_cache_entries" WHERE "cache_key" = ?${lock}`,
      [key],
    );
    if (!row) return undefined;
    return {
      counter: readCount(row.counter),
      strings: JSON.parse(row.strings) as string[],
      dictionary: JSON.parse(row.dictionary) as Record<string, unknown>,
      expiresAt: readCount(row.expires_at),
    };
  }
}
