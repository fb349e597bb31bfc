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
   * Rule tests: add only what is missing, never overwrite a field the event already has.
   * Ingest: false (p_ fields computed fresh, stale ones removed).
   */
  keepExisting: boolean;
}

/**
 * Everything Tripline knows about one log type. Nothing outside its module names a log type: ingest,
 * hit storage and the forwarders ask the module (through index.ts).
 */
export interface LogTypeModule {
  readonly name: string;
  /** Recognises the log type from the event's shape alone; modules without it are never auto-detected. */
  matches?(event: JsonObject): boolean;
  /** What an event needs to be recognised (for the error an unrecognised event gets). */
  readonly recognisedBy?: string;
  /** Adds the `p_` fields to the event in place. */
  normalise(event: JsonObject, options: NormaliseOptions): void;
  /**
   * For modules whose `p_` fields cost more than reading the event's time: ingest may leave the event as
   * it is, with its p_event_time read by this, and normalise it only when a rule reads a `p_` field or
   * matches (see prepareEvent).
   */
  deferrable?: { eventTime: EventTimeReader };
  /**
   * The source's own id of an event, when it has one: a hit is stored once per rule and event id, so a
   * forwarder's retry of the same event adds nothing.
   */
  eventId?(event: JsonObject): string | undefined;
  /** The `p_any_*` fields its normaliser writes: hits are found by their values. */
  readonly indicatorFields: readonly string[];
  /** Forwarder names that mean this log type unless configured otherwise. */
  readonly forwarderDefaults?: ForwarderDefaults;
}

export interface ForwarderDefaults {
  /** Splunk HEC sourcetypes, e.g. `aws:cloudtrail`. */
  readonly hecSourcetypes?: readonly string[];
  /** Elasticsearch index patterns (a trailing `*` matches any end), e.g. `cloudtrail*`. */
  readonly bulkIndices?: readonly string[];
}

/**
 * One `p_udm` key, as data: the text at a path of the event (dots between keys), or, where a path
 * cannot say it, a function of the event. Nothing found leaves the key out.
 */
export type DataModelField =
  | { readonly name: string; readonly path: string }
  | { readonly name: string; readonly value: (event: JsonObject) => string | undefined };

/** What a log type is made of; {@link defineLogType} turns it into a module. */
export interface LogTypeDefinition {
  readonly name: string;
  readonly recognise?: { matches: (event: JsonObject) => boolean; needs: string };
  /** p_event_time text from the event, or undefined (the receive time is used). */
  readonly eventTime: EventTimeReader;
  /** Whether ingest may leave normalisation until a rule needs it (when it costs more than the time). */
  readonly deferrable?: boolean;
  readonly eventId?: (event: JsonObject) => string | undefined;
  readonly indicators?: {
    readonly fields: readonly string[];
    /** Each field's sorted, deduplicated values (see IndicatorList), or undefined to leave it out. */
    read(event: JsonObject): Readonly<Record<string, string[] | undefined>>;
  };
  readonly dataModel?: readonly DataModelField[];
  readonly forwarderDefaults?: ForwarderDefaults;
}

/** A module from its definition: the base `p_` fields, then the indicators, then `p_udm`. */
export function defineLogType(definition: LogTypeDefinition): LogTypeModule {
  const { name, eventTime, indicators, dataModel } = definition;
  const readModel = dataModel === undefined ? undefined : compileDataModel(dataModel);
  const modelKeys = dataModel?.map((field) => field.name) ?? [];
  const normalise = (event: JsonObject, options: NormaliseOptions): void => {
    const keep = options.keepExisting;
    putBaseFields(event, name, eventTime, options);
    if (indicators && (!keep || indicators.fields.some((key) => !hasOwn(event, key)))) {
      const values = indicators.read(event);
      for (const key of indicators.fields) putField(event, key, values[key], keep);
    }
    if (readModel === undefined) return;
    const existing = getOwn(event, 'p_udm');
    if (!keep || !hasOwn(event, 'p_udm')) {
      event.p_udm = readModel(event);
    } else if (isPlainObject(existing)) {
      // Rule tests: fill in only the data-model keys the log left out.
      const udm = readModel(event);
      for (const key of modelKeys) {
        const value = udm[key];
        if (value !== undefined && !hasOwn(existing, key)) existing[key] = value;
      }
    }
    // A p_udm that is present but not an object (e.g. null) is the log's own choice and stays as it is.
  };
  return {
    name,
    ...(definition.recognise && {
      matches: definition.recognise.matches,
      recognisedBy: definition.recognise.needs,
    }),
    normalise,
    ...(definition.deferrable === true && { deferrable: { eventTime } }),
    ...(definition.eventId && { eventId: definition.eventId }),
    indicatorFields: indicators?.fields ?? [],
    ...(definition.forwarderDefaults && { forwarderDefaults: definition.forwarderDefaults }),
  };
}

/** Reads a data model into a `p_udm` object, keys in the model's order. */
export function compileDataModel(
  model: readonly DataModelField[],
): (event: JsonObject) => Record<string, string | undefined> {
  const readers = model.map((field): [string, (event: JsonObject) => string | undefined] => {
    if ('value' in field) return [field.name, field.value];
    const keys = field.path.split('.');
    const last = keys.pop() as string;
    return [
      field.name,
      (event) => {
        let object: JsonObject | undefined = event;
        for (const key of keys) object = objectField(object, key);
        return textField(object, last);
      },
    ];
  });
  return (event) => {
    const udm: Record<string, string | undefined> = {};
    for (const [name, read] of readers) {
      const value = read(event);
      if (value !== undefined) udm[name] = value;
    }
    return udm;
  };
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
