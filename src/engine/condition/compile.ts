// Turns a parsed condition into a tree of closures, once per rule: evaluation reads the event
// through precompiled getters and never looks at the syntax tree again.
//
// The semantics follow the Python rule the catalogue was printed from, where a lookup of a missing
// path gives None. "Missing" below means the getter returned `undefined`.
import { compileGetter, parseKeyPath, type ValueGetter } from '../paths.js';
import { compileRegex } from '../regex.js';
import { sharedPredicate } from '../shared-predicates.js';
import { hasOwn, isPlainObject, jsonEquals } from '../values.js';
import type { ComparisonNode, ConditionNode, ConditionScalar } from './ast.js';

export type EventPredicate = (event: unknown) => boolean;

/**
 * Compiles a node produced by the parser. Nodes built by hand must respect what the parser
 * guarantees (valid paths and patterns); otherwise this throws the paths or regex module's error.
 */
export function compileConditionNode(node: ConditionNode): EventPredicate {
  switch (node.kind) {
    case 'and':
      return allOf(node.operands.map(compileConditionNode));
    case 'or':
      return anyOf(node.operands.map(compileConditionNode));
    case 'not': {
      const operand = compileConditionNode(node.operand);
      return (event) => !operand(event);
    }
    case 'comparison':
      return sharedPredicate(
        `condition\u0000${node.path}\u0000${node.operator}\u0000${valueText(node)}`,
        () => compileComparison(node),
      );
  }
}

/** Holds when every predicate holds (and when there are none). */
export function allOf(predicates: readonly EventPredicate[]): EventPredicate {
  const [first, second] = predicates;
  if (predicates.length === 1 && first) return first;
  if (predicates.length === 2 && first && second) return (event) => first(event) && second(event);
  return (event) => {
    for (const predicate of predicates) if (!predicate(event)) return false;
    return true;
  };
}

function anyOf(predicates: readonly EventPredicate[]): EventPredicate {
  const [first, second] = predicates;
  if (predicates.length === 1 && first) return first;
  if (predicates.length === 2 && first && second) return (event) => first(event) || second(event);
  return (event) => {
    for (const predicate of predicates) if (predicate(event)) return true;
    return false;
  };
}

function compileComparison(node: ComparisonNode): EventPredicate {
  const read = getterFor(node.path);
  switch (node.operator) {
    case 'eq': {
      // The value is a scalar, so JSON equality is `===`; a missing field reads as null.
      const expected = node.value;
      return (event) => orNull(read(event)) === expected;
    }
    case 'ne': {
      const expected = node.value;
      return (event) => orNull(read(event)) !== expected;
    }
    case 'contains':
      return containsPredicate(read, node.value);
    case 'not contains': {
      const contains = containsPredicate(read, node.value);
      return (event) => !contains(event);
    }
    case 'in': {
      // A Set's SameValueZero is JSON equality for scalars, and no object or list is ever a member.
      const members = new Set<unknown>(node.value);
      return (event) => members.has(orNull(read(event)));
    }
    case 'not in': {
      const members = new Set<unknown>(node.value);
      return (event) => !members.has(orNull(read(event)));
    }
    case 'startswith': {
      const prefix = node.value;
      return (event) => {
        const value = read(event);
        return typeof value === 'string' && value.startsWith(prefix);
      };
    }
    case 'endswith': {
      const suffix = node.value;
      return (event) => {
        const value = read(event);
        return typeof value === 'string' && value.endsWith(suffix);
      };
    }
    case 'matches': {
      const regex = compileRegex(node.value);
      return (event) => {
        const value = read(event);
        return typeof value === 'string' && regex.test(value);
      };
    }
    case 'gt':
      return orderPredicate(read, node.value, (order) => order > 0);
    case 'gte':
      return orderPredicate(read, node.value, (order) => order >= 0);
    case 'lt':
      return orderPredicate(read, node.value, (order) => order < 0);
    case 'lte':
      return orderPredicate(read, node.value, (order) => order <= 0);
    case 'exists':
      // Present even when null: only `undefined` means the key is not there.
      return (event) => read(event) !== undefined;
    case 'not exists':
      return (event) => read(event) === undefined;
    case 'is_null':
      return (event) => orNull(read(event)) === null;
    case 'is_not_null':
      return (event) => {
        const value = orNull(read(event));
        return value !== null && value !== '';
      };
    case 'cross_field_compare': {
      const readOther = getterFor(node.value);
      return (event) => {
        const left = orNull(read(event));
        const right = orNull(readOther(event));
        return left !== null && right !== null && !equalOrUndecidable(left, right);
      };
    }
  }
}

function valueText(node: ComparisonNode): string {
  return 'value' in node ? JSON.stringify(node.value) : '';
}

function getterFor(path: string): ValueGetter {
  return compileGetter(parseKeyPath(path, { allowWildcard: false }));
}

/** Python's lookup gives None for a missing path; here that is null. */
function orNull(value: unknown): unknown {
  return value === undefined ? null : value;
}

/**
 * `contains` as Python's `in` reads it: a key of an object, a substring of a string, an element
 * of a list. Anything else (missing, null, a number, a boolean) contains nothing.
 */
function containsPredicate(read: ValueGetter, needle: ConditionScalar): EventPredicate {
  return (event) => {
    const haystack = read(event);
    if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
    // List elements compare by JSON equality, which for a scalar needle is SameValueZero.
    if (Array.isArray(haystack)) return (haystack as unknown[]).includes(needle);
    if (isPlainObject(haystack)) return typeof needle === 'string' && hasOwn(haystack, needle);
    return false;
  };
}

/**
 * `accept` gets the sign of (field - bound). A number bound compares with number fields and with
 * strings that hold a decimal number; a string bound compares with string fields only. Any other
 * pairing (missing, null, booleans, objects, a number against a non-numeric string) is false.
 */
function orderPredicate(
  read: ValueGetter,
  bound: number | string,
  accept: (order: number) => boolean,
): EventPredicate {
  if (typeof bound === 'number') {
    return (event) => {
      const value = asNumber(read(event));
      return value !== undefined && accept(Math.sign(value - bound));
    };
  }
  return (event) => {
    const value = read(event);
    return typeof value === 'string' && accept(compareCodePoints(value, bound));
  };
}

/** A decimal number, optionally signed and with an exponent, with surrounding spaces allowed. */
const NUMERIC_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Reads a number field, or a string such as "42" or " -1.5 " as Python's float() would. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Orders strings by code point, as Python does. JavaScript's `<` compares UTF-16 units, which puts
 * characters beyond U+FFFF (stored as surrogates, 0xD800–0xDFFF) before U+E000–U+FFFF.
 */
export function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const a = left.charCodeAt(index);
    const b = right.charCodeAt(index);
    if (a === b) continue;
    const aIsSurrogate = a >= 0xd800 && a <= 0xdfff;
    const bIsSurrogate = b >= 0xd800 && b <= 0xdfff;
    if (aIsSurrogate === bIsSurrogate) return a < b ? -1 : 1;
    return aIsSurrogate ? 1 : -1;
  }
  return Math.sign(left.length - right.length);
}

/**
 * JSON equality of two event values. Both come from the event, so both may be nested deeper than
 * the recursive comparison's stack allows; rather than throw, such a pair counts as equal, so
 * `cross_field_compare` does not fire on a difference it could not establish.
 */
function equalOrUndecidable(left: unknown, right: unknown): boolean {
  try {
    return jsonEquals(left, right);
  } catch (error) {
    if (error instanceof RangeError) return true;
    throw error;
  }
}
