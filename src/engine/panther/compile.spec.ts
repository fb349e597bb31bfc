import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MatchExpression } from '../rule.js';
import { SourceMap } from '../source-map.js';
import { Checker } from './checker.js';
import { compileMatchList } from './compile.js';
import { checkMatchList } from './match-expressions.js';

/** Compiles a `Detection:` list written in YAML. */
function detection(yaml: string, options: { inlineFilter?: boolean } = {}): (event: unknown) => boolean {
  const checker = new Checker(SourceMap.empty('test'));
  const expressions: MatchExpression[] = checkMatchList(parse(yaml), 'Detection', checker, {
    inlineFilter: options.inlineFilter ?? false,
  });
  expect(checker.diagnostics).toEqual([]);
  return compileMatchList(expressions, { missingPasses: options.inlineFilter ?? false });
}

describe('match expressions', () => {
  it('combinators: a top-level list is AND; All, Any, OnlyOne, None', () => {
    const match = detection(`
- Key: a
  Condition: Equals
  Value: 1
- Any:
    - { Key: b, Condition: Equals, Value: 1 }
    - { Key: b, Condition: Equals, Value: 2 }
- OnlyOne:
    - { Key: c, Condition: Exists }
    - { Key: d, Condition: Exists }
- None:
    - { Key: e, Condition: Equals, Value: bad }
`);
    expect(match({ a: 1, b: 2, c: 0 })).toBe(true);
    expect(match({ a: 2, b: 2, c: 0 })).toBe(false);
    expect(match({ a: 1, b: 3, c: 0 })).toBe(false);
    expect(match({ a: 1, b: 1, c: 0, d: 0 })).toBe(false);
    expect(match({ a: 1, b: 1 })).toBe(false);
    expect(match({ a: 1, b: 1, d: 0, e: 'bad' })).toBe(false);
    expect(match({ a: 1, b: 1, d: 0, e: 'good' })).toBe(true);
  });

  it('AlwaysTrue and AlwaysFalse', () => {
    expect(detection('- Condition: AlwaysTrue')({})).toBe(true);
    expect(detection('- Condition: AlwaysFalse')({})).toBe(false);
  });

  it('Key is one literal key; DeepKey and KeyPath walk mappings and list indexes', () => {
    expect(detection('- { Key: a.b, Condition: Equals, Value: 1 }')({ 'a.b': 1 })).toBe(true);
    expect(detection('- { Key: a.b, Condition: Equals, Value: 1 }')({ a: { b: 1 } })).toBe(false);
    const deep = detection('- { DeepKey: [sourceIPs, 0], Condition: Equals, Value: 1.2.3.4 }');
    expect(deep({ sourceIPs: ['1.2.3.4'] })).toBe(true);
    expect(deep({ sourceIPs: [] })).toBe(false);
    expect(deep({ sourceIPs: '1.2.3.4' })).toBe(false);
    const path = detection('- { KeyPath: "a.list[1].name", Condition: Equals, Value: two }');
    expect(path({ a: { list: [{ name: 'one' }, { name: 'two' }] } })).toBe(true);
    expect(path({ a: { list: [{ name: 'two' }] } })).toBe(false);
    const last = detection('- { KeyPath: "a[-1]", Condition: Equals, Value: z }');
    expect(last({ a: ['x', 'z'] })).toBe(true);
  });

  it('KeyPath [*] collects a value from every element', () => {
    const anyName = detection(
      '- { KeyPath: "resources[*].type", Condition: Equals, Value: "AWS::S3::Bucket" }',
    );
    expect(anyName({ resources: [{ type: 'AWS::KMS::Key' }, { type: 'AWS::S3::Bucket' }] })).toBe(true);
    expect(anyName({ resources: [{ type: 'AWS::KMS::Key' }] })).toBe(false);
    expect(anyName({ resources: 'x' })).toBe(false);
    const noneName = detection(
      '- { KeyPath: "resources[*].type", Condition: DoesNotEqual, Value: "AWS::S3::Bucket" }',
    );
    expect(noneName({ resources: [{ type: 'AWS::KMS::Key' }] })).toBe(true);
    expect(noneName({ resources: [{ type: 'AWS::S3::Bucket' }] })).toBe(false);
    const nested = detection('- { KeyPath: "a[*].b[*]", Condition: Equals, Value: 3 }');
    expect(nested({ a: [{ b: [1, 2] }, { b: [3] }] })).toBe(true);
  });

  it('keys fall back to a case-insensitive match, as in Panther', () => {
    const match = detection(
      '- { DeepKey: [protoPayload, request, enableFlowlogs], Condition: Equals, Value: false }',
    );
    expect(match({ protoPayload: { request: { enableFlowLogs: false } } })).toBe(true);
    expect(match({ protoPayload: { request: {} } })).toBe(false);
    // An exact match wins over a case-insensitive one.
    const exact = detection('- { Key: name, Condition: Equals, Value: exact }');
    expect(exact({ Name: 'other', name: 'exact' })).toBe(true);
  });

  it('two-key comparisons need both keys', () => {
    const differ = detection(`
- Condition: DoesNotEqual
  Values:
    - Key: user_id
    - KeyPath: actor.user_id
`);
    expect(differ({ user_id: 1, actor: { user_id: 2 } })).toBe(true);
    expect(differ({ user_id: 1, actor: { user_id: 1 } })).toBe(false);
    expect(differ({ user_id: 1 })).toBe(false);
    const greater = detection(`
- Condition: IsGreaterThan
  Values: [{ Key: a }, { Key: b }]
`);
    expect(greater({ a: 3, b: 2 })).toBe(true);
    expect(greater({ a: 2, b: 3 })).toBe(false);
    const prefix = detection(`
- Condition: StartsWith
  Values: [{ Key: a }, { Key: b }]
`);
    expect(prefix({ a: 'prefix-1', b: 'prefix' })).toBe(true);
  });

  it('list comprehensions AND their expressions per element', () => {
    const yaml = (condition: string) => `
- Key: list
  Condition: ${condition}
  Expressions:
    - { Key: action, Condition: Equals, Value: ADD }
    - { Key: member, Condition: IsIn, Values: [allUsers] }
`;
    const both = { action: 'ADD', member: 'allUsers' };
    const half = { action: 'ADD', member: 'me' };
    const any = detection(yaml('AnyElement'));
    const all = detection(yaml('AllElements'));
    const none = detection(yaml('NoElement'));
    const one = detection(yaml('OnlyOneElement'));
    expect([any, all, none, one].map((f) => f({ list: [both, half] }))).toEqual([true, false, false, true]);
    expect([any, all, none, one].map((f) => f({ list: [both, both] }))).toEqual([true, true, false, false]);
    expect([any, all, none, one].map((f) => f({ list: [half] }))).toEqual([false, false, true, false]);
    // No list, an empty list or a non-list has no elements.
    for (const event of [{}, { list: [] }, { list: 'x' }, { list: null }]) {
      expect([any, all, none, one].map((f) => f(event))).toEqual([false, false, true, false]);
    }
  });

  it('Enrichment reads p_enrichment[Table][Selector][FieldPath]', () => {
    const match = detection(`
- Enrichment: { Table: ipinfo_location, Selector: srcAddr, FieldPath: geo.city }
  Condition: Equals
  Value: Idaho Falls
`);
    expect(match({ p_enrichment: { ipinfo_location: { srcAddr: { geo: { city: 'Idaho Falls' } } } } })).toBe(
      true,
    );
    expect(match({ p_enrichment: { ipinfo_location: {} } })).toBe(false);
    expect(match({})).toBe(false);
  });

  it('inline filters let an event through when the key is missing', () => {
    const filter = detection('- { KeyPath: actionName, Condition: Equals, Value: Beans }', {
      inlineFilter: true,
    });
    expect(filter({ actionName: 'Beans' })).toBe(true);
    expect(filter({ actionName: 'Other' })).toBe(false);
    expect(filter({})).toBe(true);
  });

  it('never throws on odd event shapes or prototype keys', () => {
    const match = detection(`
- { KeyPath: "__proto__.polluted", Condition: Exists }
- { KeyPath: "constructor.name", Condition: Equals, Value: Object }
`);
    for (const event of [
      null,
      42,
      'text',
      [],
      [1, 2],
      {},
      JSON.parse('{"__proto__": {"polluted": 1}}') as unknown,
    ]) {
      expect(() => match(event)).not.toThrow();
    }
    expect(match({})).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
