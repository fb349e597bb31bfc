// The rules' key-value cache (panther_detection_helpers.caching) kept in this process's memory: what
// `tripline eval` gives Python rules, which then remember across the events of one run as they would
// across batches on the server. One entry per key, as Panther's table has: a counter, a string set and a
// dictionary side by side, and one expiry; an expired entry reads as absent.
import type { CacheHandler } from './python-worker.js';

interface Entry {
  counter: number;
  strings: Set<string>;
  dictionary: Record<string, unknown>;
  /** Epoch seconds. */
  expiresAt: number;
}

export class MemoryRuleCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {}

  readonly handle: CacheHandler = (operation, args) => {
    try {
      return Promise.resolve(this.apply(operation, args));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  private apply(operation: string, args: Record<string, unknown>): unknown {
    const key = args.key;
    if (typeof key !== 'string' || key === '') throw new Error('a cache key is a non-empty string');
    const expiresAt = typeof args.expiresAt === 'number' ? args.expiresAt : undefined;
    switch (operation) {
      case 'get_counter':
        return this.live(key)?.counter ?? 0;
      case 'increment_counter': {
        const entry = this.writable(key, expiresAt);
        entry.counter += typeof args.by === 'number' ? args.by : 1;
        return entry.counter;
      }
      case 'get_string_set':
        return [...(this.live(key)?.strings ?? [])];
      case 'put_string_set': {
        const entry = this.writable(key, expiresAt);
        entry.strings = new Set(strings(args.values));
        return null;
      }
      case 'add_to_string_set': {
        const entry = this.writable(key, expiresAt);
        for (const value of strings(args.values)) entry.strings.add(value);
        return [...entry.strings];
      }
      case 'remove_from_string_set': {
        const entry = this.writable(key, expiresAt);
        for (const value of strings(args.values)) entry.strings.delete(value);
        return [...entry.strings];
      }
      case 'get_dictionary':
        return this.live(key)?.dictionary ?? {};
      case 'put_dictionary': {
        const entry = this.writable(key, expiresAt);
        entry.dictionary =
          typeof args.value === 'object' && args.value !== null
            ? (args.value as Record<string, unknown>)
            : {};
        return null;
      }
      case 'reset': {
        const entry = this.live(key);
        if (entry && args.kind === 'counter') entry.counter = 0;
        if (entry && args.kind === 'string_set') entry.strings = new Set();
        return null;
      }
      case 'expire': {
        const entry = this.live(key);
        if (entry && expiresAt !== undefined) entry.expiresAt = expiresAt;
        return null;
      }
      default:
        throw new Error(`unknown cache operation ${JSON.stringify(operation)}`);
    }
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.nowSeconds()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The key's entry, made when absent; a write sets the expiry it names. */
  private writable(key: string, expiresAt: number | undefined): Entry {
    let entry = this.live(key);
    if (!entry) {
      entry = { counter: 0, strings: new Set(), dictionary: {}, expiresAt: Number.MAX_SAFE_INTEGER };
      this.entries.set(key, entry);
    }
    if (expiresAt !== undefined) entry.expiresAt = expiresAt;
    return entry;
  }
}

function strings(values: unknown): string[] {
  return Array.isArray(values) ? values.map(String) : [];
}
