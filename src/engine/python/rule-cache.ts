// The rules' key-value cache (panther_detection_helpers.caching) as one pure function: what an operation
// answers and what it leaves stored, given the key's entry. One entry per key, as Panther's table has: a
// counter, a string set and a dictionary side by side under one expiry; an expired entry reads as absent.
// Kept in memory for `tripline eval` (memory-rule-cache.ts) and in the database by the service.

export interface CacheEntry {
  counter: number;
  strings: string[];
  dictionary: Record<string, unknown>;
  /** Epoch seconds. */
  expiresAt: number;
}

/** No expiry given: the entry lives until a write sets one. */
export const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER;

/** The longest key taken (the database column's width). */
export const MAX_CACHE_KEY_CHARS = 512;

export interface CacheOutcome {
  result: unknown;
  /** The entry to store; undefined when the operation changed nothing. */
  store?: CacheEntry;
}

/** The key of a cache call, or an error a rule can read. */
export function cacheKeyOf(args: Record<string, unknown>): string {
  const key = args.key;
  if (typeof key !== 'string' || key === '') throw new Error('a cache key is a non-empty string');
  if (key.length > MAX_CACHE_KEY_CHARS)
    throw new Error(`a cache key holds at most ${MAX_CACHE_KEY_CHARS} characters`);
  return key;
}

/** Applies one operation to the key's stored entry (undefined when there is none, or it expired). */
export function applyCacheOperation(
  operation: string,
  args: Record<string, unknown>,
  stored: CacheEntry | undefined,
  nowSeconds: number,
): CacheOutcome {
  const live = stored && stored.expiresAt > nowSeconds ? stored : undefined;
  const expiresAt = typeof args.expiresAt === 'number' ? args.expiresAt : undefined;
  /** The entry a write changes: the live one, or a new one; a write sets the expiry it names. */
  const writable = (): CacheEntry => ({
    ...(live ?? { counter: 0, strings: [], dictionary: {}, expiresAt: NEVER_EXPIRES }),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  });
  switch (operation) {
    case 'get_counter':
      return { result: live?.counter ?? 0 };
    case 'increment_counter': {
      const entry = writable();
      entry.counter += typeof args.by === 'number' ? args.by : 1;
      return { result: entry.counter, store: entry };
    }
    case 'get_string_set':
      return { result: [...(live?.strings ?? [])] };
    case 'put_string_set': {
      const entry = writable();
      entry.strings = [...new Set(strings(args.values))];
      return { result: null, store: entry };
    }
    case 'add_to_string_set': {
      const entry = writable();
      entry.strings = [...new Set([...entry.strings, ...strings(args.values)])];
      return { result: entry.strings, store: entry };
    }
    case 'remove_from_string_set': {
      const entry = writable();
      const removed = new Set(strings(args.values));
      entry.strings = entry.strings.filter((value) => !removed.has(value));
      return { result: entry.strings, store: entry };
    }
    case 'get_dictionary':
      return { result: live?.dictionary ?? {} };
    case 'put_dictionary': {
      const entry = writable();
      entry.dictionary =
        typeof args.value === 'object' && args.value !== null && !Array.isArray(args.value)
          ? (args.value as Record<string, unknown>)
          : {};
      return { result: null, store: entry };
    }
    case 'reset': {
      if (!live) return { result: null };
      if (args.kind === 'counter') return { result: null, store: { ...live, counter: 0 } };
      if (args.kind === 'string_set') return { result: null, store: { ...live, strings: [] } };
      return { result: null };
    }
    case 'expire':
      return live && expiresAt !== undefined
        ? { result: null, store: { ...live, expiresAt } }
        : { result: null };
    default:
      throw new Error(`unknown cache operation ${JSON.stringify(operation)}`);
  }
}

function strings(values: unknown): string[] {
  return Array.isArray(values) ? values.map(String) : [];
}
