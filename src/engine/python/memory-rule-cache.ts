// The rules' cache (rule-cache.ts) kept in this process's memory: what `tripline eval` gives Python rules,
// which then remember across the events of one run as they would across batches on the server.
import type { CacheHandler } from './python-worker.js';
import { applyCacheOperation, cacheKeyOf, type CacheEntry } from './rule-cache.js';

export class MemoryRuleCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {}

  readonly handle: CacheHandler = (operation, args) => {
    try {
      const key = cacheKeyOf(args);
      const outcome = applyCacheOperation(operation, args, this.entries.get(key), this.nowSeconds());
      if (outcome.store) this.entries.set(key, outcome.store);
      return Promise.resolve(outcome.result);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
