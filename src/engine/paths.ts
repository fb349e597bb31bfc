// Key paths into events: `a.b[0].c`, `a.list[*].name`, and Panther's DeepKey lists.
import { getOwn, hasOwn, isPlainObject, type JsonObject } from './values.js';

/** `[*]`: every element of a list at this point of the path. */
export const WILDCARD: unique symbol = Symbol('[*]');
export type PathSegment = string | number | typeof WILDCARD;

export class PathSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset into the path text. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PathSyntaxError';
  }
}

/**
 * Parses a dotted path with `[n]` and `[*]` subscripts. Keys are split on dots only; a key that
 * itself holds a dot or a bracket cannot be written in this form (DeepKey can name it).
 */
export function parseKeyPath(text: string, options: { allowWildcard?: boolean } = {}): PathSegment[] {
  const allowWildcard = options.allowWildcard ?? true;
  const segments: PathSegment[] = [];
  let index = 0;
  let expectKey = true;
  if (text.length === 0) throw new PathSyntaxError('the path is empty', 0);
  while (index < text.length) {
    const char = text[index];
    if (char === '[') {
      const close = text.indexOf(']', index);
      if (close < 0) throw new PathSyntaxError('"[" is not closed by "]"', index);
      const inside = text.slice(index + 1, close).trim();
      if (inside === '*') {
        if (!allowWildcard) throw new PathSyntaxError('"[*]" is not allowed here', index);
        segments.push(WILDCARD);
      } else if (/^-?\d+$/.test(inside)) {
        segments.push(Number(inside));
      } else {
        throw new PathSyntaxError(`"[${inside}]" is not a list index: use [n] or [*]`, index);
      }
      index = close + 1;
      expectKey = false;
      continue;
    }
    if (char === '.') {
      if (expectKey) throw new PathSyntaxError('empty key before "."', index);
      index += 1;
      expectKey = true;
      if (index >= text.length) throw new PathSyntaxError('the path ends with "."', index - 1);
      continue;
    }
    if (!expectKey) throw new PathSyntaxError(`expected "." or "[" at "${char ?? ''}"`, index);
    let end = index;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end += 1;
    const key = text.slice(index, end);
    if (key.includes(']')) throw new PathSyntaxError('unexpected "]"', index + key.indexOf(']'));
    segments.push(key);
    index = end;
    expectKey = false;
  }
  return segments;
}

/** Reads a value; `undefined` means the path does not exist in the event. */
export type ValueGetter = (root: unknown) => unknown;

export interface GetterOptions {
  /**
   * Panther reads events as case-insensitive dictionaries: when a key is not found as written, a key
   * that differs only in case is used.
   */
  caseInsensitive?: boolean;
}

/** A key as case-insensitive lookups need it: lower-cased, and whether that is plain ASCII. */
export interface FoldedKey {
  lower: string;
  ascii: boolean;
}

export function foldKey(key: string): FoldedKey {
  const lower = key.toLowerCase();
  let ascii = true;
  for (let index = 0; index < lower.length && ascii; index++) ascii = lower.charCodeAt(index) < 0x80;
  return { lower, ascii };
}

// Rule keys are few and fixed: each is folded once.
const foldedKeys = new Map<string, FoldedKey>();

function folded(key: string): FoldedKey {
  let found = foldedKeys.get(key);
  if (!found) {
    if (foldedKeys.size >= 10_000) foldedKeys.clear();
    found = foldKey(key);
    foldedKeys.set(key, found);
  }
  return found;
}

/**
 * The object's own key that equals `key.lower` once lower-cased, if any. It runs for every rule key an
 * event lacks, so it skips what cannot match without lower-casing it: lower-casing changes a string's
 * length only through İ (U+0130), whose lower case is not ASCII, so a key that lower-cases to an ASCII
 * key has that key's length (the Kelvin sign, one unit, lower-cases to k).
 */
export function ownKeyIgnoringCase(object: JsonObject, key: FoldedKey): string | undefined {
  const length = key.lower.length;
  for (const candidate in object) {
    if (key.ascii && candidate.length !== length) continue;
    if (hasOwn(object, candidate) && candidate.toLowerCase() === key.lower) return candidate;
  }
  return undefined;
}

function findKeyIgnoringCase(object: JsonObject, key: string): unknown {
  const found = ownKeyIgnoringCase(object, folded(key));
  return found === undefined ? undefined : object[found];
}

function step(value: unknown, segment: string | number, caseInsensitive = false): unknown {
  if (typeof segment === 'number') {
    if (!Array.isArray(value)) return undefined;
    // Negative indexes count from the end, as in Python.
    const index = segment < 0 ? value.length + segment : segment;
    return index >= 0 && index < value.length ? (value[index] as unknown) : undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const found = getOwn(value, segment);
  return found === undefined && caseInsensitive ? findKeyIgnoringCase(value, segment) : found;
}

/**
 * Compiles a path into a getter. Without a wildcard the getter returns the value or `undefined`.
 * With `[*]` it returns the list of values found under every element (missing ones left out), or
 * `undefined` when the list itself is missing.
 */
export function compileGetter(segments: readonly PathSegment[], options: GetterOptions = {}): ValueGetter {
  const caseInsensitive = options.caseInsensitive ?? false;
  const wildcardAt = segments.indexOf(WILDCARD);
  if (wildcardAt < 0) {
    const plain = segments as readonly (string | number)[];
    if (plain.length === 1) {
      const only = plain[0] as string | number;
      return (root) => step(root, only, caseInsensitive);
    }
    return (root) => {
      let value = root;
      for (const segment of plain) {
        value = step(value, segment, caseInsensitive);
        if (value === undefined) return undefined;
      }
      return value;
    };
  }
  const head = compileGetter(segments.slice(0, wildcardAt), options);
  const rest = segments.slice(wildcardAt + 1);
  const tail = rest.length > 0 ? compileGetter(rest, options) : (value: unknown) => value;
  const tailHasWildcard = rest.includes(WILDCARD);
  return (root) => {
    const list = wildcardAt === 0 ? root : head(root);
    if (!Array.isArray(list)) return undefined;
    const found: unknown[] = [];
    for (const element of list) {
      const value = tail(element);
      if (value === undefined) continue;
      // Nested wildcards give one flat list, not a list of lists.
      if (tailHasWildcard && Array.isArray(value)) found.push(...(value as unknown[]));
      else found.push(value);
    }
    return found;
  };
}
