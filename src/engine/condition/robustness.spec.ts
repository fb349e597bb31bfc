// Whatever a rule author writes and whatever a forwarder sends, evaluation returns a boolean:
// no catastrophic backtracking, no throw on odd event shapes, no prototype lookups.
import { describe, expect, it } from 'vitest';
import { compileCondition, compileConditionLines } from './index.js';

describe('hostile regular expressions run in linear time', () => {
  // These patterns take exponential time on a backtracking engine; on RE2 they return at once.
  // No timing assertion: finishing at all (within the test timeout) is the check.
  it('(a+)+$ on 30 a followed by !', () => {
    expect(compileCondition('f matches "(a+)+$"')({ f: 'a'.repeat(30) + '!' })).toBe(false);
  });

  it('(a|a)*b on 40 a', () => {
    expect(compileCondition('f matches "(a|a)*b"')({ f: 'a'.repeat(40) })).toBe(false);
  });

  it('(a|aa)*c on a 100 kB string', () => {
    expect(compileCondition('f matches "(a|aa)*c"')({ f: 'a'.repeat(100_000) })).toBe(false);
  });

  it('((a*)*)*b with nested quantifiers on a 100 kB string', () => {
    expect(compileCondition('f matches "((a*)*)*b"')({ f: 'a'.repeat(100_000) })).toBe(false);
  });

  it('(x+x+)+y on a 100 kB string', () => {
    expect(compileCondition('f matches "(x+x+)+y"')({ f: 'x'.repeat(100_000) })).toBe(false);
  });

  it('(.*a){12} on a 100 kB string without enough a', () => {
    expect(compileCondition('f matches "(.*a){12}"')({ f: 'a'.repeat(11) + 'b'.repeat(100_000) })).toBe(
      false,
    );
  });

  it('(a+)+$ on a 100 kB string that does match', () => {
    expect(compileCondition('f matches "(a+)+$"')({ f: 'a'.repeat(100_000) })).toBe(true);
  });
});

/** Events of every shape a JSON body (or a careless caller) can produce. */
const ODD_EVENTS: readonly (readonly [string, unknown])[] = [
  ['null', null],
  ['undefined', undefined],
  ['a number', 42],
  ['a string', 'f'],
  ['a boolean', true],
  ['an empty list', []],
  ['a list of objects', [{ f: 'x' }]],
  ['an empty object', {}],
  ['an object without a prototype', Object.assign(Object.create(null) as object, { f: 'x' })],
  ['an object with an own __proto__ key', JSON.parse('{"__proto__": {"f": "x"}, "f": {"__proto__": 1}}')],
  ['an object whose field is a list of lists', { f: [[['x']]], g: { h: [] } }],
  ['an object with a huge string', { f: 'x'.repeat(200_000), g: { h: 'x'.repeat(200_000) } }],
  ['an object with a constructor key', { constructor: 'x', f: { constructor: { prototype: 1 } } }],
];

/** One line per operator, plus paths that try to reach prototypes. */
const EVERY_OPERATOR = [
  'f eq "x"',
  'f ne "x"',
  'f contains "x"',
  'f not contains "x"',
  'f in ["x", null]',
  'f not in ["x"]',
  'f startswith "x"',
  'f endswith "x"',
  'f matches "x+"',
  'f gt 1',
  'f gte "a"',
  'f lt 1',
  'f lte "a"',
  'f exists',
  'f not exists',
  'f is_null',
  'f is_not_null',
  'f cross_field_compare "g.h"',
  'f[0][0] eq "x"',
  'g.h[-1] exists',
  '__proto__.f eq "x"',
  'constructor.prototype exists',
  'f.length gt 0',
  'toString exists or hasOwnProperty exists or valueOf exists',
] as const;

describe('evaluation never throws and returns a boolean', () => {
  const predicates = EVERY_OPERATOR.map((line) => [line, compileCondition(line)] as const);

  it.each(ODD_EVENTS.map(([what, event]) => ({ what, event })))('on $what', ({ event }) => {
    for (const [, predicate] of predicates) expect(typeof predicate(event)).toBe('boolean');
  });

  it('reads own __proto__ keys as data and never the prototype', () => {
    const event: unknown = JSON.parse('{"__proto__": {"polluted": "yes"}}');
    expect(compileCondition('__proto__.polluted eq "yes"')(event)).toBe(true);
    expect(compileCondition('__proto__ exists')({})).toBe(false);
    expect(compileCondition('constructor exists')({})).toBe(false);
    expect(compileCondition('f.length eq 3')({ f: 'abc' })).toBe(false);
    expect(compileCondition('f.length eq 2')({ f: [1, 2] })).toBe(false);
  });

  it('treats a non-object event as having no fields', () => {
    expect(compileCondition('f ne "x"')(null)).toBe(true);
    expect(compileCondition('f is_null')('text')).toBe(true);
    expect(compileCondition('f exists')([{ f: 1 }])).toBe(false);
    expect(compileCondition('[0].f exists')([{ f: 1 }])).toBe(true);
  });

  it('does not throw comparing two fields nested deeper than the stack', () => {
    const depth = 100_000;
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const event: unknown = JSON.parse(`{"a": ${nested}, "b": ${nested}}`);
    // Undecidable within the stack counts as equal, so the comparison does not hold.
    expect(compileCondition('a cross_field_compare "b"')(event)).toBe(false);
  });

  it('compares a deeply nested field with a scalar without recursion', () => {
    const depth = 100_000;
    const event: unknown = JSON.parse(`{"a": ${'['.repeat(depth) + ']'.repeat(depth)}}`);
    for (const line of ['a eq "x"', 'a contains "x"', 'a in ["x"]', 'a gt 1', 'a exists', 'a is_not_null']) {
      expect(typeof compileCondition(line)(event)).toBe('boolean');
    }
  });
});

describe('compiled predicates are reusable', () => {
  it('gives the same answers across many events and repeated calls', () => {
    const rule = compileConditionLines(['type in ["Root", "IAMUser"]', 'name matches "^adm"']);
    const events = [
      { type: 'Root', name: 'admin' },
      { type: 'Root', name: 'user' },
      { type: 'Role', name: 'admin' },
    ];
    const first = events.map(rule);
    for (let round = 0; round < 3; round += 1) expect(events.map(rule)).toEqual(first);
    expect(first).toEqual([true, false, false]);
  });
});
