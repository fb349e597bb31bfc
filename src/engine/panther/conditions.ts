// The scalar conditions of Panther's simple detections. Panther runs simple detections as Python, so
// the semantics are Python's: a missing key reads as None, `==` never equates a string with a number,
// and every negative condition is exactly the negation of its positive twin (so `DoesNotEqual` holds
// when the key is missing). Where Python's operator would raise on a type (`"a" in None`, `None > 0`), the
// positive condition does not hold, and so its negative twin does.
import { addressSet, ipVersion, isPrivateAddress, isPublicAddress } from '../ip.js';
import { hasOwn, isPlainObject } from '../values.js';
import type { ScalarValue } from '../rule.js';

export type ValuePredicate = (actual: unknown) => boolean;

/** What a condition takes besides the key. `flag`: an optional boolean `Value` (true = as named). */
export type Operand = 'value' | 'values' | 'value-or-values' | 'none' | 'flag';

interface ConditionSpec {
  operand: Operand;
  /** The positive form; negative conditions name it and set `negate`. */
  build: (value: ScalarValue | undefined, values: readonly ScalarValue[] | undefined) => ValuePredicate;
  negate?: boolean;
}

/** Python `==` on JSON values: booleans and numbers compare as numbers, strings only with strings. */
export function pythonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null) return b === undefined || b === null;
  const numericA = typeof a === 'number' || typeof a === 'boolean';
  const numericB = typeof b === 'number' || typeof b === 'boolean';
  if (numericA || numericB) return numericA && numericB && Number(a) === Number(b);
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => pythonEquals(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => hasOwn(b, k) && pythonEquals(a[k], b[k]))
    );
  }
  return false;
}

function lower(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function contains(actual: unknown, needle: unknown, ignoreCase: boolean): boolean {
  if (typeof actual === 'string') {
    if (typeof needle !== 'string') return false;
    return ignoreCase ? actual.toLowerCase().includes(needle.toLowerCase()) : actual.includes(needle);
  }
  if (Array.isArray(actual)) {
    const wanted = ignoreCase ? lower(needle) : needle;
    return actual.some((item) => pythonEquals(ignoreCase ? lower(item) : item, wanted));
  }
  // `in` on a dict asks for a key.
  if (isPlainObject(actual)) return typeof needle === 'string' && hasOwn(actual, needle);
  return false;
}

/**
 * Python's `str.startswith`/`endswith`: on strings only, and with a string prefix only. A number, boolean,
 * list or dict as the prefix (`Value: 0`, or a multi-key's second value `[]`) raises in Python, so it
 * matches nothing rather than matching its text ("0", or "" which every string starts with).
 */
function affix(kind: 'start' | 'end', ignoreCase: boolean): ConditionSpec['build'] {
  return (value) => {
    if (typeof value !== 'string') return () => false;
    const wanted = ignoreCase ? value.toLowerCase() : value;
    return (actual) => {
      if (typeof actual !== 'string') return false;
      const text = ignoreCase ? actual.toLowerCase() : actual;
      return kind === 'start' ? text.startsWith(wanted) : text.endsWith(wanted);
    };
  };
}

/**
 * Numbers compare as numbers (numeric strings included); two non-numeric strings compare as text; booleans
 * compare as Python's ints 0 and 1, with numbers and booleans only (Python: `False >= 0` holds, `False > ""`
 * raises). Anything else (None, lists, dicts) cannot be ordered, so no comparison holds.
 */
function compare(test: (order: number) => boolean): ConditionSpec['build'] {
  return (value) => {
    const orderOf = ordering(value);
    return (actual) => {
      const order = orderOf(actual);
      return order !== undefined && test(order);
    };
  };
}

/** compareValues against one fixed value, whose number (if it is one) is read once, not per event. */
function ordering(expected: unknown): (actual: unknown) => number | undefined {
  const expectedNumber = toNumber(expected);
  return (actual) => compareValues(actual, expected, expectedNumber);
}

function compareValues(
  actual: unknown,
  expected: unknown,
  expectedNumber: number | undefined,
): number | undefined {
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    const a = pythonInt(actual);
    const expectedInt = pythonInt(expected);
    return a !== undefined && expectedInt !== undefined ? a - expectedInt : undefined;
  }
  const a = toNumber(actual);
  if (a !== undefined && expectedNumber !== undefined) return a - expectedNumber;
  if (typeof actual === 'string' && typeof expected === 'string')
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  return undefined;
}

/** Python's bool is a subclass of int; a numeric string is not a number to Python. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return Number(value);
  return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'string' && mayBeNumber(value) && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/**
 * Whether Number() could read a number from the text: false at the first ASCII character no number,
 * hexadecimal, octal or binary literal, Infinity or white space can hold. Number() on text is a call
 * into the runtime, and the strings compared are mostly times, names and addresses (a time's `T` or
 * `:` rules it out); anything beyond ASCII is left to Number().
 */
function mayBeNumber(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x80 || NUMBER_CHARACTERS[code] === 1) continue;
    return false;
  }
  return true;
}

const NUMBER_CHARACTERS = new Uint8Array(0x80);
for (const character of '0123456789abcdefABCDEFxXoO.+-Infity \t\n\v\f\r')
  NUMBER_CHARACTERS[character.charCodeAt(0)] = 1;

/**
 * Python's `not value`, which Panther's generated code tests: None, False, 0, "", [] and {} are empty (a
 * Panther fixture expects IsNullOrEmpty to hold for `false`).
 */
function isNullOrEmpty(actual: unknown): boolean {
  if (actual === undefined || actual === null || actual === '' || actual === false || actual === 0)
    return true;
  if (Array.isArray(actual)) return actual.length === 0;
  if (isPlainObject(actual)) return Object.keys(actual).length === 0;
  return false;
}

function cidrs(value: ScalarValue | undefined, values: readonly ScalarValue[] | undefined): string[] {
  return (values ?? [value]).map((item) => String(item));
}

const equals: ConditionSpec['build'] = (value) => (actual) => pythonEquals(actual, value);
const iequals: ConditionSpec['build'] = (value) => {
  const wanted = lower(value);
  return (actual) => pythonEquals(lower(actual), wanted);
};
const contain =
  (ignoreCase: boolean): ConditionSpec['build'] =>
  (value) =>
  (actual) =>
    contains(actual, value, ignoreCase);
const isIn: ConditionSpec['build'] = (_value, values) => {
  const list = values ?? [];
  return (actual) => list.some((item) => pythonEquals(actual, item));
};
const inCidr: ConditionSpec['build'] = (value, values) => {
  const set = addressSet(cidrs(value, values));
  return (actual) => set.has(actual);
};

export const CONDITIONS: Readonly<Record<string, ConditionSpec>> = {
  Equals: { operand: 'value', build: equals },
  DoesNotEqual: { operand: 'value', build: equals, negate: true },
  IEquals: { operand: 'value', build: iequals },
  IDoesNotEqual: { operand: 'value', build: iequals, negate: true },
  Contains: { operand: 'value', build: contain(false) },
  Has: { operand: 'value', build: contain(false) },
  DoesNotContain: { operand: 'value', build: contain(false), negate: true },
  DoesNotHave: { operand: 'value', build: contain(false), negate: true },
  IContains: { operand: 'value', build: contain(true) },
  IDoesNotContain: { operand: 'value', build: contain(true), negate: true },
  StartsWith: { operand: 'value', build: affix('start', false) },
  DoesNotStartWith: { operand: 'value', build: affix('start', false), negate: true },
  IStartsWith: { operand: 'value', build: affix('start', true) },
  IDoesNotStartWith: { operand: 'value', build: affix('start', true), negate: true },
  EndsWith: { operand: 'value', build: affix('end', false) },
  DoesNotEndWith: { operand: 'value', build: affix('end', false), negate: true },
  IEndsWith: { operand: 'value', build: affix('end', true) },
  IDoesNotEndWith: { operand: 'value', build: affix('end', true), negate: true },
  IsGreaterThan: { operand: 'value', build: compare((order) => order > 0) },
  IsGreaterThanOrEquals: { operand: 'value', build: compare((order) => order >= 0) },
  IsLessThan: { operand: 'value', build: compare((order) => order < 0) },
  IsLessThanOrEquals: { operand: 'value', build: compare((order) => order <= 0) },
  IsIn: { operand: 'values', build: isIn },
  IsNotIn: { operand: 'values', build: isIn, negate: true },
  IsNull: { operand: 'none', build: () => (actual) => actual === undefined || actual === null },
  IsNotNull: {
    operand: 'none',
    build: () => (actual) => actual === undefined || actual === null,
    negate: true,
  },
  IsNullOrEmpty: { operand: 'none', build: () => isNullOrEmpty },
  IsNotNullOrEmpty: { operand: 'none', build: () => isNullOrEmpty, negate: true },
  Exists: { operand: 'none', build: () => (actual) => actual !== undefined },
  DoesNotExist: { operand: 'none', build: () => (actual) => actual !== undefined, negate: true },
  IsIPAddress: { operand: 'flag', build: () => (actual) => ipVersion(actual) !== 0 },
  IsIPv4Address: { operand: 'flag', build: () => (actual) => ipVersion(actual) === 4 },
  IsIPv6Address: { operand: 'flag', build: () => (actual) => ipVersion(actual) === 6 },
  IsIPAddressPrivate: { operand: 'flag', build: () => isPrivateAddress },
  IsIPAddressPublic: { operand: 'flag', build: () => isPublicAddress },
  IsIPAddressInCIDR: { operand: 'value-or-values', build: inCidr },
  IsIPAddressNotInCIDR: { operand: 'value-or-values', build: inCidr, negate: true },
};

/** Conditions that compare the values of two keys (`Values` holding two key specifiers). */
export const MULTI_KEY_CONDITIONS = new Set([
  'Equals',
  'DoesNotEqual',
  'IEquals',
  'IDoesNotEqual',
  'Contains',
  'Has',
  'DoesNotContain',
  'DoesNotHave',
  'IContains',
  'IDoesNotContain',
  'StartsWith',
  'DoesNotStartWith',
  'IStartsWith',
  'IDoesNotStartWith',
  'EndsWith',
  'DoesNotEndWith',
  'IEndsWith',
  'IDoesNotEndWith',
  'IsGreaterThan',
  'IsGreaterThanOrEquals',
  'IsLessThan',
  'IsLessThanOrEquals',
]);

export const LIST_CONDITIONS = new Set(['AnyElement', 'AllElements', 'NoElement', 'OnlyOneElement']);
export const ABSOLUTE_CONDITIONS = new Set(['AlwaysTrue', 'AlwaysFalse']);

export function conditionSpec(name: string): ConditionSpec | undefined {
  return Object.prototype.hasOwnProperty.call(CONDITIONS, name) ? CONDITIONS[name] : undefined;
}

/**
 * Builds the predicate for one scalar condition. With `anyOf` (a `[*]` key) the value is the list of
 * everything the wildcard found: a positive condition holds when one of them satisfies it, and a
 * negative one when none does.
 */
export function buildValuePredicate(
  name: string,
  value: ScalarValue | undefined,
  values: readonly ScalarValue[] | undefined,
  anyOf = false,
): ValuePredicate {
  const spec = conditionSpec(name);
  if (!spec) throw new Error(`unknown condition ${name}`);
  let positive = spec.build(value, values);
  if (anyOf) {
    const single = positive;
    positive = (actual) => Array.isArray(actual) && actual.some((item) => single(item));
  }
  const negate = (spec.negate ?? false) !== (spec.operand === 'flag' && value === false);
  return negate ? (actual) => !positive(actual) : positive;
}
