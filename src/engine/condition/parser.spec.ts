// The shape of what the parser builds: precedence, grouping, paths, values and operators.
import { describe, expect, it } from 'vitest';
import type { ConditionNode } from './ast.js';
import { CONDITION_OPERATORS, compileCondition, parseCondition } from './index.js';

/** A comparison node without its column, for terse expectations. */
function cmp(path: string, operator: string, value?: unknown): unknown {
  const node: Record<string, unknown> = { kind: 'comparison', path, operator, column: expect.any(Number) };
  if (value !== undefined) node.value = value;
  return node;
}

describe('precedence and grouping', () => {
  it('binds not tighter than and', () => {
    expect(parseCondition('not a exists and b exists')).toEqual({
      kind: 'and',
      operands: [{ kind: 'not', operand: cmp('a', 'exists') }, cmp('b', 'exists')],
    });
  });

  it('binds and tighter than or', () => {
    expect(parseCondition('a exists or b exists and c exists')).toEqual({
      kind: 'or',
      operands: [cmp('a', 'exists'), { kind: 'and', operands: [cmp('b', 'exists'), cmp('c', 'exists')] }],
    });
  });

  it('lets parentheses override precedence', () => {
    expect(parseCondition('(a exists or b exists) and c exists')).toEqual({
      kind: 'and',
      operands: [{ kind: 'or', operands: [cmp('a', 'exists'), cmp('b', 'exists')] }, cmp('c', 'exists')],
    });
  });

  it('applies not to a whole parenthesised group', () => {
    expect(parseCondition('not (a eq 1 or b eq 2)')).toEqual({
      kind: 'not',
      operand: { kind: 'or', operands: [cmp('a', 'eq', 1), cmp('b', 'eq', 2)] },
    });
  });

  it('stacks not', () => {
    expect(parseCondition('not not a exists')).toEqual({
      kind: 'not',
      operand: { kind: 'not', operand: cmp('a', 'exists') },
    });
  });

  it('flattens a chain of the same connective into one node', () => {
    const node = parseCondition('a exists and b exists and c exists');
    expect(node).toEqual({
      kind: 'and',
      operands: [cmp('a', 'exists'), cmp('b', 'exists'), cmp('c', 'exists')],
    });
  });

  it('drops redundant parentheses', () => {
    expect(parseCondition('((a exists))')).toEqual(cmp('a', 'exists'));
  });

  it('evaluates precedence the way it parses', () => {
    // If `and` did not bind tighter, this would read (a or b) and c and fail on {a: 1}.
    expect(compileCondition('a eq 1 or b eq 1 and c eq 1')({ a: 1 })).toBe(true);
    expect(compileCondition('(a eq 1 or b eq 1) and c eq 1')({ a: 1 })).toBe(false);
    // If `not` did not bind tighter, this would read not (a and b) and hold on {a: 2, b: 2}.
    expect(compileCondition('not a eq 1 and b eq 1')({ a: 2, b: 2 })).toBe(false);
    expect(compileCondition('not a eq 1 and b eq 1')({ a: 2, b: 1 })).toBe(true);
  });
});

describe('whitespace and keywords', () => {
  it('accepts tabs, repeated spaces and no space around parentheses', () => {
    expect(parseCondition('\tnot(a eq 1)or(b  eq\t2)  ')).toEqual({
      kind: 'or',
      operands: [{ kind: 'not', operand: cmp('a', 'eq', 1) }, cmp('b', 'eq', 2)],
    });
  });

  it('reads a keyword only as a whole word, so paths may start with one', () => {
    expect(parseCondition('android exists and order exists or notes exists')).toEqual({
      kind: 'or',
      operands: [
        { kind: 'and', operands: [cmp('android', 'exists'), cmp('order', 'exists')] },
        cmp('notes', 'exists'),
      ],
    });
    expect(parseCondition('not.x exists')).toEqual(cmp('not.x', 'exists'));
  });

  it('reads an operator name in the path position as a path', () => {
    expect(parseCondition('in in ["a"]')).toEqual(cmp('in', 'in', ['a']));
    expect(parseCondition('exists exists')).toEqual(cmp('exists', 'exists'));
  });

  it('records the 1-based column of each comparison path', () => {
    expect(parseCondition('  a exists or (bb eq 1)')).toEqual({
      kind: 'or',
      operands: [
        { kind: 'comparison', path: 'a', operator: 'exists', column: 3 },
        { kind: 'comparison', path: 'bb', operator: 'eq', value: 1, column: 16 },
      ],
    });
  });

  it('builds plain data that survives a JSON round trip', () => {
    const node = parseCondition('not (a matches "x+" or b in [1, null]) and c cross_field_compare "d[0]"');
    expect(JSON.parse(JSON.stringify(node))).toEqual(node);
  });
});

describe('operators', () => {
  it.each([
    ['f eq "x"', cmp('f', 'eq', 'x')],
    ['f ne "x"', cmp('f', 'ne', 'x')],
    ['f contains "x"', cmp('f', 'contains', 'x')],
    ['f not contains "x"', cmp('f', 'not contains', 'x')],
    ['f in ["x"]', cmp('f', 'in', ['x'])],
    ['f not in ["x"]', cmp('f', 'not in', ['x'])],
    ['f startswith "x"', cmp('f', 'startswith', 'x')],
    ['f endswith "x"', cmp('f', 'endswith', 'x')],
    ['f matches "x"', cmp('f', 'matches', 'x')],
    ['f gt 1', cmp('f', 'gt', 1)],
    ['f gte "a"', cmp('f', 'gte', 'a')],
    ['f lt 1', cmp('f', 'lt', 1)],
    ['f lte 1', cmp('f', 'lte', 1)],
    ['f exists', cmp('f', 'exists')],
    ['f not exists', cmp('f', 'not exists')],
    ['f is_null', cmp('f', 'is_null')],
    ['f is_not_null', cmp('f', 'is_not_null')],
    ['f cross_field_compare "g.h"', cmp('f', 'cross_field_compare', 'g.h')],
  ])('parses %s', (line, expected) => {
    expect(parseCondition(line)).toEqual(expected);
  });

  it('lists every operator the grammar knows', () => {
    expect(CONDITION_OPERATORS).toHaveLength(18);
  });

  it('allows any spacing between not and the operator it negates', () => {
    expect(parseCondition('f not   in\t["x"]')).toEqual(cmp('f', 'not in', ['x']));
  });
});

describe('paths', () => {
  it.each([
    'requestParameters.x-amz-acl',
    'a.@timestamp',
    '$meta.key:value',
    'snake_case.CamelCase.v2',
    'données.clé',
    'items[0].name',
    'items[-1]',
    'matrix[0][1]',
    '123.456',
  ])('accepts %s', (path) => {
    expect(parseCondition(`${path} exists`)).toEqual(cmp(path, 'exists'));
  });

  it('reads a hyphenated key as one key', () => {
    const predicate = compileCondition('requestParameters.x-amz-acl eq "public-read"');
    expect(predicate({ requestParameters: { 'x-amz-acl': 'public-read' } })).toBe(true);
  });

  it('reads an astral-plane letter as one path character', () => {
    expect(parseCondition('𝒳 exists')).toEqual(cmp('𝒳', 'exists'));
  });
});

describe('values', () => {
  it.each<[string, unknown]>([
    ['"plain"', 'plain'],
    ['""', ''],
    ['"say \\"hi\\""', 'say "hi"'],
    ['"C:\\\\temp"', 'C:\\temp'],
    ['"\\d+\\.\\d+"', '\\d+\\.\\d+'],
    ['"\\n"', '\\n'],
    ['"a and b or (c)"', 'a and b or (c)'],
    ['"[1, 2]"', '[1, 2]'],
    ['"ünïcødé 🎉"', 'ünïcødé 🎉'],
    ['42', 42],
    ['-7', -7],
    ['0', 0],
    ['3.25', 3.25],
    ['-0.5', -0.5],
    ['1e3', 1000],
    ['2.5E-1', 0.25],
    ['true', true],
    ['false', false],
    ['null', null],
  ])('reads %s', (written, value) => {
    expect(parseCondition(`f eq ${written}`)).toEqual(cmp('f', 'eq', value));
  });

  it.each<[string, unknown[]]>([
    ['[]', []],
    ['["Root", "IAMUser"]', ['Root', 'IAMUser']],
    ['[ "a" ,"b" ]', ['a', 'b']],
    ['["x", 1, -2.5, true, false, null]', ['x', 1, -2.5, true, false, null]],
    ['["a,b", "c]"]', ['a,b', 'c]']],
  ])('reads the list %s', (written, values) => {
    expect(parseCondition(`f in ${written}`)).toEqual(cmp('f', 'in', values));
  });

  it('ends a string at an escaped backslash followed by a quote', () => {
    expect(parseCondition('f eq "dir\\\\" and g exists')).toEqual({
      kind: 'and',
      operands: [cmp('f', 'eq', 'dir\\'), cmp('g', 'exists')],
    });
  });
});

it('gives the same tree for the same line every time (no hidden state)', () => {
  const line = 'a in ["x"] and not (b matches "^y" or c gt 3)';
  const first: ConditionNode = parseCondition(line);
  expect(parseCondition(line)).toEqual(first);
});
