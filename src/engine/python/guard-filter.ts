// The guards a worker read from each Python rule's source (python/tripline_runtime/guards.py), applied
// here before an event is sent: a rule whose guards the event cannot pass is not asked, and an event no
// rule would look at is not sent at all. Only ever less strict than the worker: where this side cannot be
// sure it reads a field exactly as Python does (a key found only ignoring non-ASCII case), it admits.
import { isPlainObject } from '../values.js';

/** One guard as the worker describes it. */
export interface GuardSpec {
  method: 'get' | 'deep_get';
  keys: string[];
  values: string[];
  /** Whether every admitted value is a string; when not, this side does not apply the guard. */
  onlyStrings: boolean;
  /** Whether the value read for an absent field (the rule's default) passes. */
  defaultAdmitted: boolean;
}

const ABSENT = Symbol('absent');
const UNSURE = Symbol('unsure');

/** What a read found: the value, ABSENT (the rule's default applies) or UNSURE (admit). */
type Read = unknown;

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** A key of an event object as Panther's views find it: exactly, else ignoring case (first written wins). */
function field(object: Record<string, unknown>, key: string): Read {
  if (Object.hasOwn(object, key)) return object[key];
  if (!isAscii(key)) return UNSURE;
  const folded = key.toLowerCase();
  for (const candidate of Object.keys(object)) {
    if (!isAscii(candidate)) return UNSURE; // Python's lower() and JavaScript's may differ
    if (candidate.toLowerCase() === folded) return object[candidate];
  }
  return ABSENT;
}

function read(event: unknown, spec: GuardSpec): Read {
  if (!isPlainObject(event)) return UNSURE;
  if (spec.method === 'get') {
    const [key] = spec.keys;
    return key === undefined ? UNSURE : field(event, key);
  }
  // deep_get: the default for a missing level, a non-object on the way, or None at the end.
  let value: unknown = event;
  for (const key of spec.keys) {
    if (!isPlainObject(value)) return ABSENT; // deep_get stops at anything that is not an object
    const next = field(value, key);
    if (next === UNSURE) return UNSURE;
    if (next === ABSENT) return ABSENT;
    value = next;
  }
  return value === null ? ABSENT : value;
}

/** A guard made ready to test events with; undefined for one this side does not apply. */
export type CompiledGuard = (event: unknown) => boolean;

export function compileGuard(spec: GuardSpec): CompiledGuard | undefined {
  // A method this side does not know (a newer worker's) is not applied.
  if (!spec.onlyStrings || !['get', 'deep_get'].includes(spec.method)) return undefined;
  const values = new Set(spec.values);
  return (event) => {
    const value = read(event, spec);
    if (value === UNSURE) return true;
    if (value === ABSENT) return spec.defaultAdmitted;
    if (typeof value === 'string') return values.has(value);
    // An object or a list cannot be looked up in Python's set (unhashable): the rule decides.
    if (typeof value === 'object' && value !== null) return true;
    return false; // None, a number or a bool never equals one of the strings
  };
}
