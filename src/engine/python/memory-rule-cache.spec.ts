import { describe, expect, it } from 'vitest';
import { MemoryRuleCache } from './memory-rule-cache.js';

describe('the in-memory rule cache', () => {
  it('keeps counters, string sets and dictionaries per key until they expire', async () => {
    let now = 1_000;
    const cache = new MemoryRuleCache(() => now).handle;
    expect(await cache('get_counter', { key: 'logins' })).toBe(0);
    expect(await cache('increment_counter', { key: 'logins', by: 1, expiresAt: 1_060 })).toBe(1);
    expect(await cache('increment_counter', { key: 'logins', by: 2, expiresAt: 1_060 })).toBe(3);
    expect(await cache('add_to_string_set', { key: 'ips', values: ['a', 'b'], expiresAt: 2_000 })).toEqual([
      'a',
      'b',
    ]);
    expect(await cache('remove_from_string_set', { key: 'ips', values: ['a'], expiresAt: 2_000 })).toEqual([
      'b',
    ]);
    await cache('put_dictionary', { key: 'user', value: { seen: 2 }, expiresAt: 2_000 });
    expect(await cache('get_dictionary', { key: 'user' })).toEqual({ seen: 2 });
    await cache('reset', { key: 'ips', kind: 'string_set' });
    expect(await cache('get_string_set', { key: 'ips' })).toEqual([]);

    now = 1_060; // the counter's expiry: gone, the others stay
    expect(await cache('get_counter', { key: 'logins' })).toBe(0);
    expect(await cache('get_dictionary', { key: 'user' })).toEqual({ seen: 2 });
    await cache('expire', { key: 'user', expiresAt: 1_061 });
    now = 1_061;
    expect(await cache('get_dictionary', { key: 'user' })).toEqual({});
  });

  it('refuses an empty key and an operation it does not know', async () => {
    const cache = new MemoryRuleCache().handle;
    await expect(cache('get_counter', { key: '' })).rejects.toThrow(/non-empty string/);
    await expect(cache('drop_table', { key: 'k' })).rejects.toThrow(/unknown cache operation/);
  });
});
