// The index's matchers against the plain tests they stand for, on many seeded random patterns and
// values: every id they report must be one the plain test accepts, and none it accepts may be missing.
import { describe, expect, it } from 'vitest';
import { addressSet } from '../ip.js';
import { NetworkTree } from './network-tree.js';
import { RuleIndex } from './rule-index.js';
import { AffixTable, SubstringMatcher } from './text-patterns.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Short strings over a small alphabet, so that patterns overlap and repeat often. */
function words(random: () => number, count: number, maxLength: number, alphabet = 'abcab.-/É'): string[] {
  return Array.from({ length: count }, () => {
    let word = '';
    const length = Math.floor(random() * (maxLength + 1));
    for (let index = 0; index < length; index++)
      word += alphabet.charAt(Math.floor(random() * alphabet.length));
    return word;
  });
}

function collected(match: (found: (ids: readonly number[]) => void) => void): number[] {
  const ids = new Set<number>();
  match((found) => found.forEach((id) => ids.add(id)));
  return [...ids].sort((a, b) => a - b);
}

const expectedIds = (patterns: readonly string[], holds: (pattern: string) => boolean) =>
  patterns.flatMap((pattern, id) => (holds(pattern) ? [id] : []));

describe('text patterns', () => {
  it('find every substring, prefix and suffix among hundreds of overlapping patterns', () => {
    const random = seeded(7);
    for (let round = 0; round < 20; round++) {
      const patterns = words(random, 1 + Math.floor(random() * 300), [5, 9, 40][round % 3] as number);
      const substrings = new SubstringMatcher();
      const prefixes = new AffixTable('start');
      const suffixes = new AffixTable('end');
      patterns.forEach((pattern, id) => {
        substrings.add(pattern, id);
        prefixes.add(pattern, id);
        suffixes.add(pattern, id);
      });
      // Random texts, and texts made of patterns, so that long patterns occur too, at every offset.
      const made = Array.from({ length: 100 }, () =>
        [0, 1, 2]
          .map(() => (random() < 0.5 ? (patterns[Math.floor(random() * patterns.length)] ?? '') : 'x'))
          .join(''),
      );
      for (const text of [...words(random, 200, 24), ...made]) {
        expect(collected((found) => substrings.match(text, found))).toEqual(
          expectedIds(patterns, (pattern) => text.includes(pattern)),
        );
        expect(collected((found) => prefixes.match(text, found))).toEqual(
          expectedIds(patterns, (pattern) => text.startsWith(pattern)),
        );
        expect(collected((found) => suffixes.match(text, found))).toEqual(
          expectedIds(patterns, (pattern) => text.endsWith(pattern)),
        );
      }
    }
  });

  it('finds patterns that are suffixes of others (failure links), at every position', () => {
    const patterns = ['he', 'she', 'his', 'hers', 'e', 'ers'];
    const matcher = new SubstringMatcher();
    patterns.forEach((pattern, id) => matcher.add(pattern, id));
    expect(collected((found) => matcher.match('ushers', found)).map((id) => patterns[id])).toEqual([
      'he',
      'she',
      'hers',
      'e',
      'ers',
    ]);
  });
});

describe('network tree', () => {
  it('holds an address exactly when the networks it was given do', () => {
    const random = seeded(11);
    const octet = () => Math.floor(random() * 4) * 64 + Math.floor(random() * 2);
    const address = () => `${octet()}.${octet()}.${octet()}.${octet()}`;
    const v6 = () => `2001:db8:${Math.floor(random() * 3).toString(16)}::${Math.floor(random() * 3)}`;
    for (let round = 0; round < 20; round++) {
      const networks = Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
        random() < 0.7
          ? `${address()}/${Math.floor(random() * 33)}`
          : `${v6()}/${Math.floor(random() * 129)}`,
      );
      const tree = new NetworkTree();
      networks.forEach((network, id) => expect(tree.add(network, id)).toBe(true));
      const sets = networks.map((network) => addressSet([network]));
      const values = [
        ...Array.from({ length: 100 }, address),
        ...Array.from({ length: 30 }, v6),
        '::ffff:64.0.0.1',
        'not an address',
        '',
      ];
      for (const value of values)
        expect(collected((found) => tree.match(value, found))).toEqual(
          expectedIds(networks, (_network) => sets[networks.indexOf(_network)]?.has(value) ?? false),
        );
    }
  });

  it('refuses what is not a network', () => {
    const tree = new NetworkTree();
    expect(tree.add('10.0.0.0/33', 0)).toBe(false);
    expect(tree.add('10.0.0/8', 1)).toBe(false);
    expect(tree.add('2001:db8::/129', 2)).toBe(false);
    expect(tree.add('10.0.0.0/8/1', 3)).toBe(false);
  });
});

describe('RuleIndex', () => {
  it('counts a requirement met by several of its patterns once', () => {
    // Seventeen rules share both requirements, so both are counted for each (neither alone narrows).
    const rules = Array.from({ length: 17 }, (_, index) => `rule ${index}`);
    const index = new RuleIndex(rules, () => ({
      requirements: [
        { key: 'a', text: 'substring', patterns: ['xxxxxxxx', 'xxxxxxxxx'], ignoreCase: false },
        { key: 'b', values: new Set(['y']) },
      ],
      keysIgnoreCase: false,
    }));
    expect(index.candidates({ a: 'xxxxxxxxxx' })).toEqual([]);
    expect(index.candidates({ a: 'xxxxxxxxxx', b: 'y' })).toEqual(rules);
    expect(index.candidates({ b: 'y' })).toEqual([]);
    expect(index.summary()).toEqual({ rules: 17, indexed: 17, keys: ['a', 'b'] });
  });

  it('counts only the least shared requirement of a rule when few rules share it', () => {
    const index = new RuleIndex(['common', 'rare'], (rule) => ({
      requirements:
        rule === 'common'
          ? [{ key: 'source', values: new Set(['s3']) }]
          : [
              { key: 'source', values: new Set(['s3']) },
              { key: 'name', values: new Set(['DeleteBucket']) },
            ],
      keysIgnoreCase: false,
    }));
    expect(index.candidates({ source: 's3', name: 'GetObject' })).toEqual(['common']);
    // `rare` is filed under its name alone: the detection checks the source.
    expect(index.candidates({ source: 'ec2', name: 'DeleteBucket' })).toEqual(['rare']);
  });

  it('prefers a named value to a short prefix or a wide network, even one shared by fewer rules', () => {
    // Three rules name the same call; each alone has its address test, which a short prefix or a /8
    // network makes far less selective than the call's name.
    const index = new RuleIndex(['by prefix', 'by network', 'long prefix'], (rule) => ({
      requirements: [
        { key: 'name', values: new Set(['DeleteTrail']) },
        rule === 'by prefix'
          ? { key: 'ip', text: 'prefix', patterns: ['10.'], ignoreCase: false }
          : rule === 'by network'
            ? { key: 'ip', networks: ['10.0.0.0/8'] }
            : { key: 'ip', text: 'prefix', patterns: ['10.20.30.'], ignoreCase: false },
      ],
      keysIgnoreCase: false,
    }));
    expect(index.candidates({ name: 'GetObject', ip: '10.1.2.3' })).toEqual([]);
    expect(index.candidates({ name: 'DeleteTrail', ip: '192.0.2.1' })).toEqual(['by prefix', 'by network']);
    // A prefix of 8 characters or more counts as much as a value: shared by fewer rules than the name,
    // it is chosen.
    expect(index.candidates({ name: 'GetObject', ip: '10.20.30.40' })).toEqual(['long prefix']);
  });

  it('files a rule whose list holds two hundred thousand values', () => {
    // Ranking its requirement once spread the list into one call's arguments, past what a call takes.
    const values = new Set(Array.from({ length: 200_000 }, (_, index) => `value-${index}`));
    const index = new RuleIndex(['long list'], () => ({
      requirements: [{ key: 'a', values }],
      keysIgnoreCase: false,
    }));
    expect(index.candidates({ a: 'value-199999' })).toEqual(['long list']);
    expect(index.candidates({ a: 'other' })).toEqual([]);
  });

  it('leaves a requirement it cannot file to the detection, never losing the rule', () => {
    const index = new RuleIndex(['rule'], () => ({
      requirements: [{ key: 'ip', networks: ['10.0.0.0/8', 'not a network'] }],
      keysIgnoreCase: false,
    }));
    expect(index.candidates({ ip: '192.0.2.1' })).toEqual(['rule']);
    expect(index.summary().indexed).toBe(0);
  });
});
