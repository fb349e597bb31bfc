// What every log type module shares: its contract and the `p_` fields all of them write.
import { randomFillSync } from 'node:crypto';
import { ipVersion } from '../ip.js';
import { getOwn, hasOwn, isPlainObject, type JsonObject } from '../values.js';
import { formatTimestamp } from './time.js';

export interface NormaliseOptions {
  /** Becomes p_parse_time; also p_event_time when the event carries no usable time. */
  receivedAt: Date;
  /** p_row_id; a random 32-digit hex id when absent. */
  rowId?: string;
  /**
   * Rule tests: add only what is missing, never overwrite a field the event already has (DESIGN §3).
   * Ingest: false (p_ fields computed fresh, stale ones removed).
   */
  keepExisting: boolean;
}

export interface LogTypeModule {
  readonly name: string;
  /** Recognises the log type from the event's shape alone; modules without it are never auto-detected. */
  matches?(event: JsonObject): boolean;
  /** Adds the `p_` fields to the event in place. */
  normalise(event: JsonObject, options: NormaliseOptions): void;
  /**
   * For modules whose `p_` fields cost more than reading the event's time: ingest may leave the event as
   * it is, with its p_event_time read by this, and normalise it only when a rule reads a `p_` field or
   * matches (see prepareEvent).
   */
  deferrable?: { eventTime: EventTimeReader };
}

/** Reads the event's time as p_event_time text (see isoTimestamp), or `undefined` when it has none. */
export type EventTimeReader = (event: JsonObject) => string | undefined;

/** Whether a `p_` field should be (re)computed: always on ingest, only when absent in rule tests. */
export function needsField(event: JsonObject, key: string, keepExisting: boolean): boolean {
  return !keepExisting || !hasOwn(event, key);
}

/**
 * Writes a computed field. `undefined` means "nothing found": the field is then left out, and on ingest a
 * stale value the event arrived with is removed so that every `p_` field is this normaliser's own.
 * With `keepExisting` a field the event already has is never touched, whatever its value (even null).
 */
export function putField(event: JsonObject, key: string, value: unknown, keepExisting: boolean): void {
  if (keepExisting && hasOwn(event, key)) return;
  if (value !== undefined) event[key] = value;
  else if (hasOwn(event, key)) Reflect.deleteProperty(event, key);
}

/** p_log_type, p_event_time (from `readEventTime`, else the receive time), p_parse_time and p_row_id. */
export function putBaseFields(
  event: JsonObject,
  logType: string,
  readEventTime: EventTimeReader,
  options: NormaliseOptions,
): void {
  const keep = options.keepExisting;
  if (needsField(event, 'p_log_type', keep)) event.p_log_type = logType;
  if (needsField(event, 'p_event_time', keep)) {
    event.p_event_time = readEventTime(event) ?? receivedIso(options.receivedAt);
  }
  if (needsField(event, 'p_parse_time', keep)) event.p_parse_time = receivedIso(options.receivedAt);
  if (needsField(event, 'p_row_id', keep)) event.p_row_id = options.rowId ?? newRowId();
}

// A batch shares one receive time: format it once, not once per event.
let lastReceivedMs = Number.NaN;
let lastReceivedIso = '';

export function receivedIso(receivedAt: Date): string {
  const ms = receivedAt.getTime();
  if (ms !== lastReceivedMs) {
    lastReceivedIso = formatTimestamp(ms);
    lastReceivedMs = ms;
  }
  return lastReceivedIso;
}

// Random bytes are drawn 256 row ids at a time; randomUUID plus stripping its dashes costs several times more.
const ROW_ID_BYTES = 16;
const rowIdPool = Buffer.alloc(ROW_ID_BYTES * 256);
let rowIdOffset = rowIdPool.length;

/** 32 lowercase hex digits (128 random bits), the shape of Panther's p_row_id. */
export function newRowId(): string {
  if (rowIdOffset === rowIdPool.length) {
    randomFillSync(rowIdPool);
    rowIdOffset = 0;
  }
  const id = rowIdPool.toString('hex', rowIdOffset, rowIdOffset + ROW_ID_BYTES);
  rowIdOffset += ROW_ID_BYTES;
  return id;
}

/** A field's value when it is a plain object (own property only: `__proto__` is data, never the prototype). */
export function objectField(object: JsonObject | undefined, key: string): JsonObject | undefined {
  if (object === undefined) return undefined;
  const value = getOwn(object, key);
  return isPlainObject(value) ? value : undefined;
}

/** A field's value as non-empty text: strings as they are, finite numbers (YAML test logs) in decimal. */
export function textField(object: JsonObject | undefined, key: string): string | undefined {
  if (object === undefined) return undefined;
  const value = getOwn(object, key);
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The same test as the rules' IsIPAddress condition. */
export function isIpAddress(value: string): boolean {
  return ipVersion(value) !== 0;
}

/**
 * Collects indicator values into a sorted list without duplicates. Values are appended blindly and
 * deduplicated once at the end, so a hostile event with a huge list costs O(n log n), not O(n²).
 */
export class IndicatorList {
  private values: string[] | undefined;

  add(value: string | undefined): void {
    if (value === undefined) return;
    if (this.values === undefined) this.values = [value];
    else this.values.push(value);
  }

  /** The sorted, deduplicated values, or `undefined` when none were found (the field is then omitted). */
  result(): string[] | undefined {
    const values = this.values;
    if (values === undefined || values.length < 2) return values;
    values.sort();
    let kept = 1;
    for (let index = 1; index < values.length; index += 1) {
      const value = values[index] as string;
      if (value !== values[kept - 1]) values[kept++] = value;
    }
    values.length = kept;
    return values;
  }
}
