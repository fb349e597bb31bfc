import { describe, expect, it } from 'vitest';
import { BoundedText, jsonPrefix, truncate } from './values.js';

/** A seeded generator (mulberry32), so that a failure names the value that made it. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 8));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.round((next() - 0.5) * 1e6) / 100;
    case 3:
      return 'é"\\\n\u0001😀abc'.slice(0, Math.floor(next() * 10));
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(next() * 5); i += 1) object[`k${i}"`] = randomValue(next, depth + 1);
      return object;
    }
  }
}

describe('jsonPrefix', () => {
  it('is exactly the start of JSON.stringify for any JSON value and any length', () => {
    const next = random(20261207);
    for (let round = 0; round < 2000; round += 1) {
      const value = randomValue(next, 0);
      const json = (JSON.stringify(value) as string | undefined) ?? '';
      const max = Math.floor(next() * (json.length + 3));
      expect(jsonPrefix(value, max), `${json} cut at ${max}`).toBe(json.slice(0, max));
    }
  });

  it('writes a large value only as far as asked', () => {
    const huge = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    expect(jsonPrefix(huge, 12)).toBe('[{"i":0},{"i');
    expect(jsonPrefix({ s: 'x'.repeat(1_000_000) }, 8)).toBe('{"s":"xx');
  });

  it('follows toJSON and leaves out what JSON leaves out', () => {
    const when = new Date(Date.UTC(2025, 0, 2));
    expect(jsonPrefix({ when, f: () => 1, u: undefined, list: [undefined] }, 1000)).toBe(
      JSON.stringify({ when, f: () => 1, u: undefined, list: [undefined] }),
    );
  });
});

describe('BoundedText', () => {
  it('stops at its limit and never splits a surrogate pair', () => {
    const text = new BoundedText(5);
    text.append('abcd');
    text.append('😀😀');
    expect(text.full).toBe(true);
    expect(text.toString()).toBe('abcd');
    expect(truncate('ab😀', 3)).toBe('ab');
  });
});
