// What each operator means, field shape by field shape: present, missing, null, empty and
// wrongly typed fields. Each table row is `[what the field is, the event, the expected result]`.
import { describe, expect, it } from 'vitest';
import { compileCondition } from './index.js';
import { compareCodePoints } from './compile.js';

type Row = readonly [what: string, event: unknown, expected: boolean];

/** One `it` per row, named after the line and the field shape. */
function table(line: string, rows: readonly Row[]): void {
  describe(line, () => {
    const predicate = compileCondition(line);
    it.each(rows.map(([what, event, expected]) => ({ what, event, expected })))(
      '$what → $expected',
      ({ event, expected }) => {
        expect(predicate(event)).toBe(expected);
      },
    );
  });
}

describe('eq', () => {
  table('f eq "x"', [
    ['an equal string', { f: 'x' }, true],
    ['a different string', { f: 'y' }, false],
    ['the same string in another case', { f: 'X' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['an empty string', { f: '' }, false],
    ['an empty list', { f: [] }, false],
    ['an empty object', { f: {} }, false],
    ['a list holding the value', { f: ['x'] }, false],
    ['a number', { f: 1 }, false],
  ]);
  table('f eq 1', [
    ['an equal integer', { f: 1 }, true],
    ['an equal decimal', { f: 1.0 }, true],
    ['a different number', { f: 2 }, false],
    ['the same number as a string', { f: '1' }, false],
    ['true (booleans are not numbers)', { f: true }, false],
    ['missing', {}, false],
  ]);
  table('f eq -2.5', [
    ['an equal negative decimal', { f: -2.5 }, true],
    ['its absolute value', { f: 2.5 }, false],
  ]);
  table('f eq true', [
    ['true', { f: true }, true],
    ['false', { f: false }, false],
    ['1 (booleans are not numbers)', { f: 1 }, false],
    ['the string "true"', { f: 'true' }, false],
    ['missing', {}, false],
  ]);
  table('f eq null', [
    ['missing', {}, true],
    ['null', { f: null }, true],
    ['an empty string', { f: '' }, false],
    ['zero', { f: 0 }, false],
    ['false', { f: false }, false],
    ['an empty list', { f: [] }, false],
  ]);
  table('f eq ""', [
    ['an empty string', { f: '' }, true],
    ['missing', {}, false],
    ['null', { f: null }, false],
  ]);
  table('a.b[1].c eq "deep"', [
    ['present at the nested path', { a: { b: [{}, { c: 'deep' }] } }, true],
    ['an index past the end', { a: { b: [{ c: 'deep' }] } }, false],
    ['a parent that is not a list', { a: { b: { 1: { c: 'deep' } } } }, false],
    ['a parent that is a string', { a: 'text' }, false],
  ]);
  table('a[-1] eq "last"', [
    ['the last item', { a: ['first', 'last'] }, true],
    ['an empty list', { a: [] }, false],
  ]);
});

describe('ne (exactly not eq)', () => {
  table('f ne "x"', [
    ['an equal string', { f: 'x' }, false],
    ['a different string', { f: 'y' }, true],
    ['missing', {}, true],
    ['null', { f: null }, true],
    ['an empty string', { f: '' }, true],
    ['an empty list', { f: [] }, true],
    ['a number', { f: 1 }, true],
  ]);
  table('f ne null', [
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['an empty string', { f: '' }, true],
  ]);
  table('f ne 0', [
    ['zero', { f: 0 }, false],
    ['false (booleans are not numbers)', { f: false }, true],
  ]);
});

describe('contains', () => {
  table('f contains "arn"', [
    ['an object with that key', { f: { arn: 'x' } }, true],
    ['an object with that key set to null', { f: { arn: null } }, true],
    ['an object holding it only as a value', { f: { name: 'arn' } }, false],
    ['an empty object', { f: {} }, false],
    ['a string with that substring', { f: 'the arn:aws' }, true],
    ['a string without it', { f: 'ARN' }, false],
    ['an empty string', { f: '' }, false],
    ['a list with that element', { f: ['x', 'arn'] }, true],
    ['a list with a longer element only (elements, not substrings)', { f: ['arnx'] }, false],
    ['an empty list', { f: [] }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['a number', { f: 5 }, false],
    ['a boolean', { f: true }, false],
  ]);
  table('f contains "constructor"', [
    ['an empty object (prototype keys do not count)', { f: {} }, false],
    ['an object with an own "constructor" key', { f: { constructor: 1 } }, true],
  ]);
  table('f contains "__proto__"', [
    ['an object parsed with an own "__proto__" key', JSON.parse('{"f": {"__proto__": 1}}'), true],
    ['an object literal (whose __proto__ is its prototype)', { f: {} }, false],
  ]);
  table('f contains ""', [
    ['any string (Python: "" in s)', { f: 'abc' }, true],
    ['an empty string', { f: '' }, true],
    ['an object with an empty key', { f: { '': 1 } }, true],
    ['an empty list', { f: [] }, false],
  ]);
  table('f contains 1', [
    ['a list with 1', { f: [3, 1] }, true],
    ['a list with 1.0', { f: [1.0] }, true],
    ['a list with "1"', { f: ['1'] }, false],
    ['a list with true (booleans are not numbers)', { f: [true] }, false],
    ['a string with the digit (a number is no substring)', { f: 'a1' }, false],
    ['an object with key "1" (a number is no key)', { f: { 1: 'x' } }, false],
  ]);
  table('f contains null', [
    ['a list with null', { f: [null] }, true],
    ['a list without null', { f: ['null'] }, false],
    ['missing', {}, false],
  ]);
  table('f contains true', [
    ['a list with true', { f: [false, true] }, true],
    ['a list with 1', { f: [1] }, false],
  ]);
});

describe('not contains (exactly not contains)', () => {
  table('f not contains "arn"', [
    ['an object with that key', { f: { arn: 'x' } }, false],
    ['an object without it', { f: { other: 1 } }, true],
    ['an empty object', { f: {} }, true],
    ['a string with that substring', { f: 'arn:aws' }, false],
    ['an empty string', { f: '' }, true],
    ['a list with that element', { f: ['arn'] }, false],
    ['an empty list', { f: [] }, true],
    ['missing', {}, true],
    ['null', { f: null }, true],
    ['a number', { f: 7 }, true],
  ]);
});

describe('in', () => {
  table('f in ["Root", "IAMUser"]', [
    ['one of the values', { f: 'IAMUser' }, true],
    ['a value in another case', { f: 'root' }, false],
    ['another value', { f: 'AssumedRole' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['an empty string', { f: '' }, false],
    ['a list holding one of the values', { f: ['Root'] }, false],
    ['an empty object', { f: {} }, false],
  ]);
  table('f in [1, "2", true]', [
    ['a listed number', { f: 1 }, true],
    ['a listed number written as a decimal', { f: 1.0 }, true],
    ['a number listed only as a string', { f: 2 }, false],
    ['a string listed', { f: '2' }, true],
    ['a string listed only as a number', { f: '1' }, false],
    ['a listed boolean', { f: true }, true],
    ['false', { f: false }, false],
  ]);
  table('f in ["a", null]', [
    ['missing (reads as null, as with eq null)', {}, true],
    ['null', { f: null }, true],
    ['an empty string', { f: '' }, false],
  ]);
  table('f in []', [
    ['a string', { f: 'a' }, false],
    ['missing', {}, false],
  ]);
});

describe('not in (exactly not in)', () => {
  table('f not in ["Root", "IAMUser"]', [
    ['one of the values', { f: 'Root' }, false],
    ['another value', { f: 'AssumedRole' }, true],
    ['missing', {}, true],
    ['null', { f: null }, true],
    ['an empty string', { f: '' }, true],
    ['an empty list', { f: [] }, true],
  ]);
  table('f not in []', [
    ['a string', { f: 'a' }, true],
    ['missing', {}, true],
  ]);
});

describe('startswith and endswith', () => {
  table('f startswith "arn:"', [
    ['a string with that prefix', { f: 'arn:aws:iam' }, true],
    ['the prefix itself', { f: 'arn:' }, true],
    ['a string with it elsewhere', { f: 'x-arn:' }, false],
    ['an empty string', { f: '' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['a list whose first item has it', { f: ['arn:x'] }, false],
    ['an object', { f: { 'arn:': 1 } }, false],
  ]);
  table('f startswith "12"', [
    ['a number with those digits', { f: 123 }, false],
    ['a string with those digits', { f: '123' }, true],
  ]);
  table('f startswith ""', [
    ['any string', { f: 'abc' }, true],
    ['an empty string', { f: '' }, true],
    ['a number', { f: 1 }, false],
    ['missing', {}, false],
  ]);
  table('f endswith ".exe"', [
    ['a string with that suffix', { f: 'C:\\tools\\nc.exe' }, true],
    ['a string with it elsewhere', { f: 'a.exe.txt' }, false],
    ['an empty string', { f: '' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['a list', { f: ['nc.exe'] }, false],
    ['a boolean', { f: false }, false],
  ]);
});

describe('matches', () => {
  table('f matches "^AKIA[0-9A-Z]{16}$"', [
    ['a matching string', { f: 'AKIAABCDEFGHIJKLMNOP' }, true],
    ['a string one character short', { f: 'AKIAABCDEFGHIJKLMNO' }, false],
    ['an empty string', { f: '' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['a list of matching strings', { f: ['AKIAABCDEFGHIJKLMNOP'] }, false],
  ]);
  table('f matches "admin"', [
    ['a string with it in the middle (search, not full match)', { f: 'sysadmin-role' }, true],
    ['a string without it', { f: 'Admin' }, false],
  ]);
  table('f matches "1"', [
    ['a number with that digit (numbers are not searched)', { f: 123 }, false],
    ['a string with that digit', { f: 'a1' }, true],
  ]);
  table('f matches "^\\d{3}-\\d{4}$"', [
    ['a string of that shape (backslash escapes reach the regex as written)', { f: '555-1234' }, true],
    ['a string of another shape', { f: '5551234' }, false],
  ]);
  table('f matches "a\\.b"', [
    ['a literal dot', { f: 'xa.b' }, true],
    ['any other character where the dot is', { f: 'axb' }, false],
  ]);
  table('f matches "(?i)^root$"', [['a string in another case, with an inline flag', { f: 'ROOT' }, true]]);
  table('f matches ""', [
    ['any string', { f: 'abc' }, true],
    ['an empty string', { f: '' }, true],
    ['missing', {}, false],
  ]);
});

describe('gt, gte, lt, lte with a number', () => {
  table('f gt 10', [
    ['a greater integer', { f: 11 }, true],
    ['an equal number', { f: 10 }, false],
    ['a smaller number', { f: 9 }, false],
    ['a greater decimal', { f: 10.5 }, true],
    ['a numeric string greater by value', { f: '11' }, true],
    ['a numeric string that would be smaller as text', { f: '9.5e1' }, true],
    ['a numeric string with spaces around', { f: ' 11 ' }, true],
    ['a negative numeric string', { f: '-11' }, false],
    ['a non-numeric string', { f: 'eleven' }, false],
    ['a hex string', { f: '0x10' }, false],
    ['the string "inf"', { f: 'inf' }, false],
    ['an empty string', { f: '' }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
    ['true (booleans are not numbers)', { f: true }, false],
    ['an empty list', { f: [] }, false],
    ['a list of greater numbers', { f: [20] }, false],
    ['an empty object', { f: {} }, false],
  ]);
  table('f gte 10', [
    ['an equal number', { f: 10 }, true],
    ['an equal numeric string', { f: '10.0' }, true],
    ['a smaller number', { f: 9.99 }, false],
    ['missing', {}, false],
  ]);
  table('f lt -1.5', [
    ['a smaller number', { f: -2 }, true],
    ['an equal number', { f: -1.5 }, false],
    ['a greater number', { f: -1 }, false],
    ['missing (not read as zero)', {}, false],
    ['null (not read as zero)', { f: null }, false],
  ]);
  table('f lte 0', [
    ['zero', { f: 0 }, true],
    ['negative zero', { f: -0 }, true],
    ['a negative number', { f: -3 }, true],
    ['a positive number', { f: 0.001 }, false],
    ['false (booleans are not numbers)', { f: false }, false],
  ]);
});

describe('gt, gte, lt, lte with a string', () => {
  table('f gt "m"', [
    ['a later string', { f: 'n' }, true],
    ['an equal string', { f: 'm' }, false],
    ['an earlier string', { f: 'a' }, false],
    ['a longer string with the bound as prefix', { f: 'ma' }, true],
    ['an upper-case letter (code points: "Z" < "m")', { f: 'Z' }, false],
    ['an empty string', { f: '' }, false],
    ['a number', { f: 100 }, false],
    ['missing', {}, false],
    ['null', { f: null }, false],
  ]);
  table('f gt "9"', [['the string "10" (strings compare as text)', { f: '10' }, false]]);
  table('f gte "2023-03-01T00:00:00Z"', [
    ['a later timestamp', { f: '2023-03-01T00:00:01Z' }, true],
    ['the same timestamp', { f: '2023-03-01T00:00:00Z' }, true],
    ['an earlier timestamp', { f: '2023-02-28T23:59:59Z' }, false],
  ]);
  table('f lt "b"', [
    ['an earlier string', { f: 'abc' }, true],
    ['an empty string', { f: '' }, true],
    ['an equal string', { f: 'b' }, false],
  ]);
  table('f lte "b"', [
    ['an equal string', { f: 'b' }, true],
    ['a later string', { f: 'ba' }, false],
  ]);
  table('f gt "\uFFFD"', [
    ['a character beyond U+FFFF (code point order, as in Python)', { f: '\u{1F600}' }, true],
    ['a character below it', { f: '\u00E9' }, false],
  ]);

  it('compareCodePoints orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBe(1);
    expect(compareCodePoints('\uFFFD', '\u{1F600}')).toBe(-1);
    expect(compareCodePoints('\u{1F600}', '\u{1F601}')).toBe(-1);
    expect(compareCodePoints('abc', 'abc')).toBe(0);
    expect(compareCodePoints('ab', 'abc')).toBe(-1);
    expect(compareCodePoints('b', 'abc')).toBe(1);
  });
});

describe('exists and not exists', () => {
  table('f exists', [
    ['a string', { f: 'x' }, true],
    ['null (present, even if null)', { f: null }, true],
    ['an empty string', { f: '' }, true],
    ['an empty list', { f: [] }, true],
    ['an empty object', { f: {} }, true],
    ['false', { f: false }, true],
    ['missing', {}, false],
    ['only another key', { g: 1 }, false],
  ]);
  table('a.b exists', [
    ['a nested key', { a: { b: 0 } }, true],
    ['a missing parent', {}, false],
    ['a null parent', { a: null }, false],
    ['a parent that is a list', { a: [{ b: 1 }] }, false],
  ]);
  table('items[2] exists', [
    ['a list long enough', { items: [0, 0, null] }, true],
    ['a list too short', { items: [0, 0] }, false],
  ]);
  table('f not exists', [
    ['missing', {}, true],
    ['null', { f: null }, false],
    ['an empty string', { f: '' }, false],
    ['a string', { f: 'x' }, false],
  ]);
  table('toString exists', [['an empty object (Object.prototype keys are not fields)', {}, false]]);
});

describe('is_null and is_not_null', () => {
  table('f is_null', [
    ['missing', {}, true],
    ['null', { f: null }, true],
    ['an empty string (empty is not null)', { f: '' }, false],
    ['zero', { f: 0 }, false],
    ['false', { f: false }, false],
    ['an empty list', { f: [] }, false],
    ['an empty object', { f: {} }, false],
    ['a string', { f: 'x' }, false],
  ]);
  table('f is_not_null', [
    ['a string', { f: 'x' }, true],
    ['a single space', { f: ' ' }, true],
    ['zero', { f: 0 }, true],
    ['false', { f: false }, true],
    ['an empty list', { f: [] }, true],
    ['an empty object', { f: {} }, true],
    ['an empty string', { f: '' }, false],
    ['null', { f: null }, false],
    ['missing', {}, false],
  ]);
});

describe('cross_field_compare', () => {
  table('a cross_field_compare "b.c"', [
    ['two different strings', { a: '111111111111', b: { c: '222222222222' } }, true],
    ['two equal strings', { a: '222222222222', b: { c: '222222222222' } }, false],
    ['a number and the same digits as a string (different JSON values)', { a: 1, b: { c: '1' } }, true],
    ['1 and 1.0', { a: 1, b: { c: 1.0 } }, false],
    ['an empty string and a string (empty is present)', { a: '', b: { c: 'x' } }, true],
    ['the first field missing', { b: { c: 'x' } }, false],
    ['the second field missing', { a: 'x', b: {} }, false],
    ['both missing', {}, false],
    ['the first field null', { a: null, b: { c: 'x' } }, false],
    ['the second field null', { a: 'x', b: { c: null } }, false],
    ['equal objects with keys in another order', { a: { x: 1, y: [1] }, b: { c: { y: [1], x: 1 } } }, false],
    ['objects that differ in a nested value', { a: { x: 1 }, b: { c: { x: 2 } } }, true],
    ['lists in another order', { a: [1, 2], b: { c: [2, 1] } }, true],
    ['true and 1', { a: true, b: { c: 1 } }, true],
  ]);
});

describe('combinators on real semantics', () => {
  table('not (f ne "x")', [
    ['the value', { f: 'x' }, true],
    ['missing', {}, false],
  ]);
  table('f exists and f ne "x"', [
    ['another value', { f: 'y' }, true],
    ['missing (exists guards the ne)', {}, false],
  ]);
  table('f eq "x" or g eq "y"', [
    ['the first', { f: 'x' }, true],
    ['the second', { g: 'y' }, true],
    ['neither', { f: 'y', g: 'x' }, false],
  ]);
  table('a exists and b exists and c exists and d exists', [
    ['all four', { a: 1, b: 1, c: 1, d: 1 }, true],
    ['all but the last', { a: 1, b: 1, c: 1 }, false],
  ]);
  table('a exists or b exists or c exists', [
    ['only the last', { c: 1 }, true],
    ['none', {}, false],
  ]);
});
