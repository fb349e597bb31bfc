// Query-string parameters shared by the read APIs: instants, page sizes, keyset cursors and lists. Every
// problem is an InvalidParametersError naming the parameter.
import { InvalidParametersError } from './errors.js';
import { didYouMean } from './suggestions.js';

export type RawQuery = Record<string, unknown>;

/** One value of a parameter that may not repeat. */
export function single(query: RawQuery, name: string): string | undefined {
  const value = Object.prototype.hasOwnProperty.call(query, name) ? query[name] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new InvalidParametersError([{ parameter: name, message: `${name} may be given once` }]);
  return value;
}

/** Repeated and comma-separated values, as one list. */
export function list(query: RawQuery, name: string): string[] | undefined {
  const value = Object.prototype.hasOwnProperty.call(query, name) ? query[name] : undefined;
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value])
    .flatMap((item) => String(item).split(','))
    .map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === '')) {
    throw new InvalidParametersError([{ parameter: name, message: `${name} must not be empty` }]);
  }
  return items;
}

/** An ISO 8601 instant with a date and, when it has a time, a zone (Z or ±hh:mm); epoch ms. */
export function instant(query: RawQuery, name: string): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;
  const parsed = iso.test(value)
    ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value.replace(' ', 'T'))
    : Number.NaN;
  // Date.parse rolls 2023-02-30 over into March: the date must come back as written.
  const [year = 0, month = 0, day = 0] = value.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  const realDate =
    date.getUTCFullYear() === year && date.getUTCMonth() + 1 === month && date.getUTCDate() === day;
  if (Number.isNaN(parsed) || !realDate) {
    throw new InvalidParametersError([
      { parameter: name, message: `${name} must be an ISO 8601 time such as 2025-01-31T12:00:00Z` },
    ]);
  }
  return parsed;
}

export function pageSize(query: RawQuery, name: string, fallback: number, max: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new InvalidParametersError([
      { parameter: name, message: `${name} must be a whole number from 1 to ${max}` },
    ]);
  }
  return Number(value);
}

/** Row ids are 32-bit on PostgreSQL (serial); the same bound holds on SQLite, so both answer alike. */
export const MAX_ID = 2_147_483_647;

export function positiveId(value: string, name: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > MAX_ID) {
    throw new InvalidParametersError([
      { parameter: name, message: `${name} must be a whole number from 1 to ${MAX_ID}` },
    ]);
  }
  return Number(value);
}

/** Times a cursor can hold: every stored time lies in 1970 to 2199 (event times are held to that range). */
const CURSOR_TIMES = { earliest: 0, latest: Date.UTC(2200, 0, 1) };

/** Where the previous page ended: its last item's time and id (newest first, so the next page is older). */
export interface KeysetPosition {
  time: number;
  id: number;
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(`${position.time}.${position.id}`, 'utf8').toString('base64url');
}

export function cursor(query: RawQuery, name: string): KeysetPosition | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(value) ? Buffer.from(value, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,15})\.(\d{1,10})$/.exec(decoded);
  const time = Number(match?.[1]);
  const id = Number(match?.[2]);
  // Made by hand, a cursor could hold a time or an id no stored row has, which a database may not parse.
  const possible = time >= CURSOR_TIMES.earliest && time < CURSOR_TIMES.latest && id >= 0 && id <= MAX_ID;
  if (!match || !possible || encodeCursor({ time, id }) !== value) {
    throw new InvalidParametersError([
      { parameter: name, message: `${name} must be a nextCursor returned by this list` },
    ]);
  }
  return { time, id };
}

/** Refuses parameters the operation does not know, naming them. */
export function rejectUnknown(
  query: RawQuery,
  known: readonly string[],
  prefixes: readonly string[] = [],
): void {
  const unknown = Object.keys(query).filter(
    (name) => !known.includes(name) && !prefixes.some((prefix) => name.startsWith(prefix)),
  );
  if (unknown.length > 0) {
    throw new InvalidParametersError(
      unknown.map((parameter) => {
        const near = didYouMean(parameter, known);
        return {
          parameter,
          message: `unknown parameter ${parameter}${near === undefined ? '' : `; did you mean ${near}?`}`,
        };
      }),
    );
  }
}
