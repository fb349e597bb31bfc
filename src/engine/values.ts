// Helpers for the JSON values that events and rules are made of.

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property read that never walks the prototype chain (`__proto__`, `constructor` are plain keys here). */
export function getOwn(object: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * Deep equality of JSON values; numbers compare by value, so `1` equals `1.0`.
 * Objects compare key by key regardless of order.
 */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEquals(item, b[index]));
  }
  if (Array.isArray(b)) return false;
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => hasOwn(right, key) && jsonEquals(left[key], right[key]));
}

/** Text of a value as Python's `str()` would print it for scalars; JSON for containers. */
export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/** Cuts a string to `max` characters without splitting a surrogate pair; the cut is a copy (see `detached`). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return detached(text.slice(0, end));
}

/**
 * A copy of `text` that does not keep a larger string alive. V8 represents a slice as a view of its
 * parent, so a 1,000-character title cut from a 300 kB rendering would keep all 300 kB; concatenating
 * makes a new string, which the slice then flattens into fresh memory of the slice's own size.
 */
export function detached(text: string): string {
  return (' ' + text).slice(1);
}

/**
 * Text written up to a limit, then no more: a rule's output (title, dedup key) is built by appending to
 * one of these, so that what a template renders never grows past its limit, however many placeholders
 * it has or however large the values they name.
 */
export class BoundedText {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(private readonly max: number) {}

  /** Whether the limit is reached: later appends change nothing, so callers may stop early. */
  get full(): boolean {
    return this.length >= this.max;
  }

  append(text: string): void {
    if (this.full || text === '') return;
    const room = this.max - this.length;
    if (text.length <= room) {
      this.parts.push(text);
      this.length += text.length;
    } else {
      // Cut one short rather than split a surrogate pair; either way nothing more fits.
      this.parts.push(truncate(text, room));
      this.length = this.max;
    }
  }

  /** A value as `displayValue` writes it, rendered only as far as there is room. */
  appendValue(value: unknown): void {
    if (this.full || value === undefined || value === null) return;
    if (typeof value === 'string') this.append(value);
    else if (typeof value === 'object') this.append(jsonPrefix(value, this.max - this.length));
    else this.append(displayValue(value));
  }

  /** The text so far: a copy that holds no larger string alive. */
  toString(): string {
    return detached(this.parts.join(''));
  }
}

/**
 * The first `max` characters of `JSON.stringify(value)`, written without the rest: the cost is bounded by
 * `max` (and the keys walked before the limit), not by the size of the value.
 */
export function jsonPrefix(value: unknown, max: number): string {
  const out: string[] = [];
  let length = 0;
  const write = (text: string) => {
    out.push(text);
    length += text.length;
  };
  // A container being written: an array, or an object with its keys; `wrote` says a comma is due.
  const stack: {
    container: unknown[] | JsonObject;
    keys: string[] | undefined;
    next: number;
    wrote: boolean;
  }[] = [];
  // Writes a scalar or opens a container; false for what JSON leaves out (undefined, functions, symbols).
  const open = (raw: unknown): boolean => {
    const item =
      typeof raw === 'object' && raw !== null && typeof (raw as { toJSON?: unknown }).toJSON === 'function'
        ? (raw as { toJSON(): unknown }).toJSON()
        : raw;
    if (item === null) write('null');
    // A string longer than the room left is cut first: its JSON runs past the limit either way.
    else if (typeof item === 'string') {
      const room = Math.max(0, max - length);
      write(JSON.stringify(item.length > room ? item.slice(0, room + 1) : item));
    } else if (typeof item === 'number') write(Number.isFinite(item) ? String(item) : 'null');
    else if (typeof item === 'boolean') write(String(item));
    else if (Array.isArray(item)) {
      write('[');
      stack.push({ container: item as unknown[], keys: undefined, next: 0, wrote: false });
    } else if (typeof item === 'object') {
      write('{');
      stack.push({ container: item as JsonObject, keys: Object.keys(item), next: 0, wrote: false });
    } else return false;
    return true;
  };
  if (!open(value)) return '';
  while (stack.length > 0 && length < max) {
    const frame = stack[stack.length - 1] as (typeof stack)[number];
    const size = frame.keys ? frame.keys.length : (frame.container as unknown[]).length;
    if (frame.next >= size) {
      write(frame.keys ? '}' : ']');
      stack.pop();
      continue;
    }
    const index = frame.next++;
    const comma = frame.wrote ? ',' : '';
    if (frame.keys) {
      const key = frame.keys[index] as string;
      const item = (frame.container as JsonObject)[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      frame.wrote = true;
      write(`${comma}${JSON.stringify(key)}:`);
      open(item);
    } else {
      frame.wrote = true;
      write(comma);
      if (!open((frame.container as unknown[])[index])) write('null');
    }
  }
  const text = out.join('');
  return text.length > max ? text.slice(0, max) : text;
}

/**
 * How deeply a JSON value nests (a scalar is 0), counted without recursion and given up past `limit`:
 * the answer is then `limit + 1`. Deep values would overflow recursive code further on.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    const level = depth + 1;
    if (level > limit) return limit + 1;
    if (level > deepest) deepest = level;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level]);
    }
  }
  return deepest;
}

/** Sets a key as an own, enumerable property, even when it is `__proto__`. */
export function setOwn(object: JsonObject, key: string, value: unknown): void {
  // Only `__proto__` is an accessor on Object.prototype; any other key is made own by a plain assignment.
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
