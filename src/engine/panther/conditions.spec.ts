import { describe, expect, it } from 'vitest';
import { buildValuePredicate, CONDITIONS, pythonEquals } from './conditions.js';
import type { ScalarValue } from '../rule.js';

const MISSING = undefined;

/** Rows: [actual field value, expected outcome]. */
type Row = [unknown, boolean];

function check(
  condition: string,
  operand: { value?: ScalarValue; values?: ScalarValue[] },
  rows: Row[],
): void {
  const predicate = buildValuePredicate(condition, operand.value, operand.values);
  for (const [actual, expected] of rows) {
    expect(
      predicate(actual),
      `${condition} ${JSON.stringify(operand)} on ${actual === undefined ? 'missing' : JSON.stringify(actual)}`,
    ).toBe(expected);
  }
}

describe('Panther scalar conditions', () => {
  it('Equals compares like Python ==: numbers by value, never a string with a number', () => {
    check('Equals', { value: 403 }, [
      [403, true],
      [403.0, true],
      ['403', false],
      [MISSING, false],
      [null, false],
      [[403], false],
      [{ code: 403 }, false],
    ]);
    check('Equals', { value: 'GetObject' }, [
      ['GetObject', true],
      ['getobject', false],
      ['', false],
      [MISSING, false],
    ]);
    check('Equals', { value: false }, [
      [false, true],
      [0, true],
      ['false', false],
      [MISSING, false],
    ]);
  });

  it('DoesNotEqual is the exact negation of Equals, so a missing key does not equal', () => {
    check('DoesNotEqual', { value: 'AccessDenied' }, [
      ['AccessDenied', false],
      ['Other', true],
      [MISSING, true],
      [null, true],
      [['AccessDenied'], true],
    ]);
  });

  it('IEquals and IDoesNotEqual ignore case of strings only', () => {
    check('IEquals', { value: 'DOWNLOAD' }, [
      ['download', true],
      ['Download', true],
      ['upload', false],
      [MISSING, false],
      [1, false],
    ]);
    check('IDoesNotEqual', { value: 'DOWNLOAD' }, [
      ['download', false],
      ['upload', true],
      [MISSING, true],
    ]);
  });

  it('Contains/Has: substring of a string, element of a list, key of a mapping', () => {
    for (const condition of ['Contains', 'Has']) {
      check(condition, { value: 'admin' }, [
        ['domain_admin', true],
        ['user', false],
        [['admin', 'user'], true],
        [['administrator'], false],
        [{ admin: 1 }, true],
        [{ other: 1 }, false],
        ['', false],
        [[], false],
        [MISSING, false],
        [null, false],
        [42, false],
      ]);
    }
    check('Contains', { value: 1 }, [
      [[1, 2], true],
      [['1'], false],
      ['1', false],
    ]);
  });

  it('DoesNotContain/DoesNotHave negate Contains, missing included', () => {
    for (const condition of ['DoesNotContain', 'DoesNotHave']) {
      check(condition, { value: '-l' }, [
        [['-l'], false],
        [['-e'], true],
        [[], true],
        [MISSING, true],
        ['ls -la', false],
      ]);
    }
  });

  it('IContains and IDoesNotContain ignore case in strings and list elements', () => {
    check('IContains', { value: 'ADMIN' }, [
      ['DomainAdmin', true],
      [['Admin'], true],
      ['user', false],
      [MISSING, false],
    ]);
    check('IDoesNotContain', { value: 'ADMIN' }, [
      ['DomainAdmin', false],
      ['user', true],
      [MISSING, true],
    ]);
  });

  it('StartsWith/EndsWith and their negations apply to strings only', () => {
    check('StartsWith', { value: 'List' }, [
      ['ListBuckets', true],
      ['GetList', false],
      ['', false],
      [MISSING, false],
      [['ListBuckets'], false],
      [123, false],
    ]);
    check('DoesNotStartWith', { value: 'List' }, [
      ['ListBuckets', false],
      ['GetList', true],
      [MISSING, true],
    ]);
    check('EndsWith', { value: '.amazonaws.com' }, [
      ['s3.amazonaws.com', true],
      ['s3.amazonaws.com.evil', false],
      [MISSING, false],
      [null, false],
    ]);
    check('DoesNotEndWith', { value: '.com' }, [
      ['a.com', false],
      ['a.org', true],
      [MISSING, true],
    ]);
    check('IStartsWith', { value: 'list' }, [
      ['ListBuckets', true],
      [MISSING, false],
    ]);
    check('IDoesNotStartWith', { value: 'list' }, [
      ['ListBuckets', false],
      ['Get', true],
    ]);
    check('IEndsWith', { value: 'BUCKETS' }, [
      ['ListBuckets', true],
      [7, false],
    ]);
    check('IDoesNotEndWith', { value: 'BUCKETS' }, [
      ['ListBuckets', false],
      [MISSING, true],
    ]);
  });

  it('StartsWith/EndsWith with a Value that is not a string match nothing, as Python raises there', () => {
    check('StartsWith', { value: 0 }, [
      ['0abc', false],
      ['', false],
    ]);
    check('DoesNotStartWith', { value: 0 }, [['0abc', true]]);
    check('EndsWith', { value: false }, [['is false', false]]);
    check('IEndsWith', { value: 10 }, [['port 10', false]]);
    // A multi-key comparison hands the second key's value over as the Value: an empty list is not "".
    const startsWithList = buildValuePredicate('StartsWith', [] as unknown as ScalarValue, undefined);
    expect(startsWithList('prefix-1')).toBe(false);
  });

  it('numeric comparisons compare numbers and numeric strings, and are false otherwise', () => {
    check('IsGreaterThan', { value: 5 }, [
      [6, true],
      [5, false],
      ['7', true],
      [5.5, true],
      ['abc', false],
      [MISSING, false],
      [null, false],
      [[9], false],
      [true, false],
    ]);
    check('IsGreaterThanOrEquals', { value: 7.0 }, [
      [7, true],
      [8.9, true],
      [6.99, false],
      [MISSING, false],
    ]);
    check('IsLessThan', { value: 10 }, [
      [9, true],
      [10, false],
      [MISSING, false],
      ['', false],
    ]);
    check('IsLessThanOrEquals', { value: 10 }, [
      [10, true],
      [11, false],
      [MISSING, false],
    ]);
    check('IsGreaterThan', { value: 'b' }, [
      ['c', true],
      ['a', false],
    ]);
  });

  it('numeric strings in every form Number() reads compare as numbers, and times as text', () => {
    check('IsGreaterThan', { value: 10 }, [
      [' 12 ', true],
      ['\t11\n', true],
      ['0x1F', true],
      ['0o17', true],
      ['0b1011', true],
      ['1e3', true],
      ['+20.5', true],
      ['Infinity', true],
      ['-Infinity', false],
      ['-.5', false],
      ['\u00a012', true],
      ['12abc', false],
      ['   ', false],
    ]);
    // A time is not a number: it compares with a string bound as text, and with a number bound not at all.
    check('IsLessThan', { value: '2001-01-01' }, [
      ['2000-12-31T23:59:59Z', true],
      ['2024-05-01T12:00:00Z', false],
    ]);
    check('IsLessThan', { value: 3000 }, [['2024-05-01T12:00:00Z', false]]);
    check('IsGreaterThan', { value: '2' }, [
      ['10', true],
      ['1e1', true],
    ]);
  });

  it('numeric comparisons order booleans as Python does, as the ints 0 and 1', () => {
    check('IsGreaterThanOrEquals', { value: 0 }, [
      [false, true],
      [true, true],
      ['0', true],
    ]);
    check('IsGreaterThan', { value: 0 }, [
      [true, true],
      [false, false],
    ]);
    check('IsLessThan', { value: 1 }, [
      [false, true],
      [true, false],
    ]);
    check('IsLessThanOrEquals', { value: false }, [
      [0, true],
      [-1, true],
      [false, true],
      [0.5, false],
      // Python cannot order a bool and a str, numeric or not.
      ['0', false],
      ['', false],
      [MISSING, false],
    ]);
    check('IsGreaterThan', { value: true }, [
      [2, true],
      [true, false],
    ]);
  });

  it('IsIn/IsNotIn test membership with Python equality', () => {
    check('IsIn', { values: [80, 443] }, [
      [443, true],
      [22, false],
      ['443', false],
      [MISSING, false],
      [null, false],
    ]);
    check('IsNotIn', { values: [80, 443] }, [
      [443, false],
      [22, true],
      [MISSING, true],
    ]);
    check('IsIn', { values: [] }, [['x', false]]);
  });

  it('IsNull, IsNotNull, IsNullOrEmpty, IsNotNullOrEmpty', () => {
    check('IsNull', {}, [
      [MISSING, true],
      [null, true],
      ['', false],
      [0, false],
      [[], false],
    ]);
    check('IsNotNull', {}, [
      [MISSING, false],
      [null, false],
      ['', true],
      [false, true],
    ]);
    check('IsNullOrEmpty', {}, [
      [MISSING, true],
      [null, true],
      ['', true],
      [[], true],
      [{}, true],
      [' ', false],
      // Python's `not value`: False and 0 are empty too; True and 1 are not.
      [0, true],
      [false, true],
      [true, false],
      [1, false],
      [['x'], false],
    ]);
    check('IsNotNullOrEmpty', {}, [
      [MISSING, false],
      [[], false],
      [false, false],
      [0, false],
      [{ a: 1 }, true],
      ['x', true],
      [true, true],
    ]);
  });

  it('Exists and DoesNotExist look at presence only, a null value is present', () => {
    check('Exists', {}, [
      [MISSING, false],
      [null, true],
      ['', true],
    ]);
    check('DoesNotExist', {}, [
      [MISSING, true],
      [null, false],
      [0, false],
    ]);
  });

  it('IP address conditions', () => {
    check('IsIPAddress', {}, [
      ['1.2.3.4', true],
      ['2001:db8::1', true],
      ['sqs.amazonaws.com', false],
      ['999.1.1.1', false],
      [MISSING, false],
      [16909060, false],
    ]);
    check('IsIPv4Address', {}, [
      ['1.2.3.4', true],
      ['::1', false],
    ]);
    check('IsIPv6Address', {}, [
      ['::1', true],
      ['1.2.3.4', false],
      [null, false],
    ]);
    check('IsIPAddressPrivate', { value: true }, [
      ['10.0.0.1', true],
      ['172.16.5.4', true],
      ['192.168.1.1', true],
      ['127.0.0.1', true],
      ['fd00::1', true],
      ['1.1.1.1', false],
      ['100.64.0.1', false],
      ['not-an-ip', false],
      [MISSING, false],
    ]);
    check('IsIPAddressPublic', { value: true }, [
      ['1.1.1.1', true],
      ['2606:4700::1111', true],
      ['10.0.0.1', false],
      ['100.64.0.1', false],
      ['fe80::1', false],
      [MISSING, false],
    ]);
    check('IsIPAddressPrivate', { value: false }, [
      ['10.0.0.1', false],
      ['1.1.1.1', true],
    ]);
    check('IsIPAddressInCIDR', { value: '10.0.0.0/8' }, [
      ['10.1.2.3', true],
      ['11.0.0.1', false],
      ['2001:db8::1', false],
      [MISSING, false],
    ]);
    check('IsIPAddressInCIDR', { values: ['192.168.0.0/16', '2001:db8::/32'] }, [
      ['2001:db8::1', true],
      ['192.168.7.7', true],
      ['10.0.0.1', false],
    ]);
    check('IsIPAddressNotInCIDR', { value: '10.0.0.0/8' }, [
      ['10.1.2.3', false],
      ['11.0.0.1', true],
      [MISSING, true],
    ]);
  });

  it('a [*] key holds when any collected value matches; a negative condition when none does', () => {
    const anyEquals = buildValuePredicate('Equals', 'admin', undefined, true);
    expect(anyEquals(['user', 'admin'])).toBe(true);
    expect(anyEquals(['user'])).toBe(false);
    expect(anyEquals(undefined)).toBe(false);
    const noneEquals = buildValuePredicate('DoesNotEqual', 'admin', undefined, true);
    expect(noneEquals(['user', 'admin'])).toBe(false);
    expect(noneEquals(['user'])).toBe(true);
    expect(noneEquals(undefined)).toBe(true);
  });

  it('every condition in the table is covered by a test above', () => {
    const covered = new Set([
      ...[
        'Equals',
        'DoesNotEqual',
        'IEquals',
        'IDoesNotEqual',
        'Contains',
        'Has',
        'DoesNotContain',
        'DoesNotHave',
      ],
      ...[
        'IContains',
        'IDoesNotContain',
        'StartsWith',
        'DoesNotStartWith',
        'IStartsWith',
        'IDoesNotStartWith',
      ],
      ...[
        'EndsWith',
        'DoesNotEndWith',
        'IEndsWith',
        'IDoesNotEndWith',
        'IsGreaterThan',
        'IsGreaterThanOrEquals',
      ],
      ...['IsLessThan', 'IsLessThanOrEquals', 'IsIn', 'IsNotIn', 'IsNull', 'IsNotNull', 'IsNullOrEmpty'],
      ...['IsNotNullOrEmpty', 'Exists', 'DoesNotExist', 'IsIPAddress', 'IsIPv4Address', 'IsIPv6Address'],
      ...['IsIPAddressPrivate', 'IsIPAddressPublic', 'IsIPAddressInCIDR', 'IsIPAddressNotInCIDR'],
    ]);
    expect(Object.keys(CONDITIONS).filter((name) => !covered.has(name))).toEqual([]);
  });
});

describe('pythonEquals', () => {
  it('treats booleans as numbers and compares containers deeply', () => {
    expect(pythonEquals(true, 1)).toBe(true);
    expect(pythonEquals('1', 1)).toBe(false);
    expect(pythonEquals({ a: [1, { b: 2 }] }, { a: [1, { b: 2.0 }] })).toBe(true);
    expect(pythonEquals({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(pythonEquals(null, undefined)).toBe(true);
  });
});

describe('every condition on false, 0, "", [], {}', () => {
  // Columns, in this order: a missing key, null, false, 0, "", [], {}.
  const COLUMNS: readonly unknown[] = [MISSING, null, false, 0, '', [], {}];
  const T = true;
  const F = false;
  type Operand = { value?: ScalarValue; values?: ScalarValue[] };
  type TableRow = [condition: string, operand: Operand, expected: readonly boolean[]];

  // Panther runs conditions as Python over the event, a missing key reading as None. Where Python's
  // operator raises on a type (`"a" in None`, `None > 0`, `(0).startswith("")`) the positive condition
  // does not hold and its negative twin does, as everywhere in conditions.ts.
  const TABLE: readonly TableRow[] = [
    // `==`: bool is an int (False == 0), "", [] and {} equal only themselves, None equals no Value.
    ['Equals', { value: false }, [F, F, T, T, F, F, F]],
    ['Equals', { value: 0 }, [F, F, T, T, F, F, F]],
    ['Equals', { value: '' }, [F, F, F, F, T, F, F]],
    ['Equals', { value: true }, [F, F, F, F, F, F, F]],
    ['DoesNotEqual', { value: false }, [T, T, F, F, T, T, T]],
    ['DoesNotEqual', { value: 0 }, [T, T, F, F, T, T, T]],
    ['DoesNotEqual', { value: '' }, [T, T, T, T, F, T, T]],
    // Case folds strings only; anything else compares with `==`.
    ['IEquals', { value: '' }, [F, F, F, F, T, F, F]],
    ['IEquals', { value: false }, [F, F, T, T, F, F, F]],
    ['IDoesNotEqual', { value: '' }, [T, T, T, T, F, T, T]],
    // `in`: nothing is in "", [] or {} but "" in ""; `in` on None, False or 0 raises.
    ['Contains', { value: 'a' }, [F, F, F, F, F, F, F]],
    ['Contains', { value: '' }, [F, F, F, F, T, F, F]],
    ['Contains', { value: false }, [F, F, F, F, F, F, F]],
    ['Has', { value: 'a' }, [F, F, F, F, F, F, F]],
    ['Has', { value: '' }, [F, F, F, F, T, F, F]],
    ['DoesNotContain', { value: 'a' }, [T, T, T, T, T, T, T]],
    ['DoesNotContain', { value: '' }, [T, T, T, T, F, T, T]],
    ['DoesNotHave', { value: 'a' }, [T, T, T, T, T, T, T]],
    ['DoesNotHave', { value: '' }, [T, T, T, T, F, T, T]],
    ['IContains', { value: '' }, [F, F, F, F, T, F, F]],
    ['IDoesNotContain', { value: '' }, [T, T, T, T, F, T, T]],
    // `str.startswith`/`endswith`: strings only ("" starts and ends with ""), and a string Value only.
    ['StartsWith', { value: '' }, [F, F, F, F, T, F, F]],
    ['StartsWith', { value: 'a' }, [F, F, F, F, F, F, F]],
    ['StartsWith', { value: false }, [F, F, F, F, F, F, F]],
    ['DoesNotStartWith', { value: '' }, [T, T, T, T, F, T, T]],
    ['IStartsWith', { value: '' }, [F, F, F, F, T, F, F]],
    ['IDoesNotStartWith', { value: '' }, [T, T, T, T, F, T, T]],
    ['EndsWith', { value: '' }, [F, F, F, F, T, F, F]],
    ['DoesNotEndWith', { value: '' }, [T, T, T, T, F, T, T]],
    ['IEndsWith', { value: '' }, [F, F, F, F, T, F, F]],
    ['IDoesNotEndWith', { value: '' }, [T, T, T, T, F, T, T]],
    // `<`, `>`: False and 0 order as 0 among numbers; "" only against strings; None, [] and {} never.
    ['IsGreaterThan', { value: -1 }, [F, F, T, T, F, F, F]],
    ['IsGreaterThan', { value: 0 }, [F, F, F, F, F, F, F]],
    ['IsGreaterThan', { value: '' }, [F, F, F, F, F, F, F]],
    ['IsGreaterThanOrEquals', { value: 0 }, [F, F, T, T, F, F, F]],
    ['IsGreaterThanOrEquals', { value: false }, [F, F, T, T, F, F, F]],
    ['IsGreaterThanOrEquals', { value: '' }, [F, F, F, F, T, F, F]],
    ['IsLessThan', { value: 1 }, [F, F, T, T, F, F, F]],
    ['IsLessThan', { value: true }, [F, F, T, T, F, F, F]],
    ['IsLessThanOrEquals', { value: 0 }, [F, F, T, T, F, F, F]],
    // `in` a list of Values, by `==`; nothing is in [].
    ['IsIn', { values: [false] }, [F, F, T, T, F, F, F]],
    ['IsIn', { values: [0] }, [F, F, T, T, F, F, F]],
    ['IsIn', { values: [''] }, [F, F, F, F, T, F, F]],
    ['IsIn', { values: [] }, [F, F, F, F, F, F, F]],
    ['IsNotIn', { values: [false] }, [T, T, F, F, T, T, T]],
    ['IsNotIn', { values: [] }, [T, T, T, T, T, T, T]],
    // `is None`: only a missing key and null.
    ['IsNull', {}, [T, T, F, F, F, F, F]],
    ['IsNotNull', {}, [F, F, T, T, T, T, T]],
    // `not value`: every one of them is empty (a Panther fixture expects it for false).
    ['IsNullOrEmpty', {}, [T, T, T, T, T, T, T]],
    ['IsNotNullOrEmpty', {}, [F, F, F, F, F, F, F]],
    // Presence of the key: null is present.
    ['Exists', {}, [F, T, T, T, T, T, T]],
    ['DoesNotExist', {}, [T, F, F, F, F, F, F]],
    // An IP address is a string; none of these is one (Value: false negates).
    ['IsIPAddress', { value: true }, [F, F, F, F, F, F, F]],
    ['IsIPAddress', { value: false }, [T, T, T, T, T, T, T]],
    ['IsIPv4Address', { value: true }, [F, F, F, F, F, F, F]],
    ['IsIPv6Address', { value: true }, [F, F, F, F, F, F, F]],
    ['IsIPAddressPrivate', { value: true }, [F, F, F, F, F, F, F]],
    ['IsIPAddressPrivate', { value: false }, [T, T, T, T, T, T, T]],
    ['IsIPAddressPublic', { value: true }, [F, F, F, F, F, F, F]],
    ['IsIPAddressInCIDR', { value: '0.0.0.0/0' }, [F, F, F, F, F, F, F]],
    ['IsIPAddressNotInCIDR', { value: '0.0.0.0/0' }, [T, T, T, T, T, T, T]],
  ];

  for (const [condition, operand, expected] of TABLE) {
    it(`${condition} ${JSON.stringify(operand)}`, () => {
      check(
        condition,
        operand,
        COLUMNS.map((actual, i): Row => [actual, expected[i] as boolean]),
      );
    });
  }

  it('has a row for every condition, and one expectation per column', () => {
    const named = new Set(TABLE.map(([condition]) => condition));
    expect(Object.keys(CONDITIONS).filter((name) => !named.has(name))).toEqual([]);
    expect(TABLE.filter(([, , expected]) => expected.length !== COLUMNS.length)).toEqual([]);
  });
});
