// Log types: which one an event is, the `p_` fields each adds, its event id and the forwarder names that
// mean it. Each log type with a module of its own is one file here plus one line in LOG_TYPE_MODULES;
// every other name gets the generic module.
import { isPlainObject, type JsonObject } from '../values.js';
import { cloudTrailModule } from './cloudtrail.js';
import { receivedIso, type LogTypeModule, type NormaliseOptions } from './common.js';
import { createGenericModule, GENERIC_INDICATOR_FIELDS, normaliseGeneric } from './generic.js';

export type {
  DataModelField,
  ForwarderDefaults,
  LogTypeDefinition,
  LogTypeModule,
  NormaliseOptions,
} from './common.js';
export { defineLogType, IndicatorList } from './common.js';
export { formatTimestamp, isoTimestamp, parseTimestamp } from './time.js';

const LOG_TYPE_MODULES: readonly LogTypeModule[] = [cloudTrailModule];

/** Log types with a module of their own, by name. */
const modules = new Map<string, LogTypeModule>();
/** Modules that can recognise their events by shape, tried in registration order by {@link detectLogType}. */
let detectable: LogTypeModule[] = [];
/** Every indicator field some module writes: the ones hits are found by. */
let indicatorFields: readonly string[] = GENERIC_INDICATOR_FIELDS;

for (const module of LOG_TYPE_MODULES) registerLogType(module);

/** Makes a log type module known to ingest, rule tests and the forwarders; its name must be new. */
export function registerLogType(module: LogTypeModule): void {
  if (modules.has(module.name)) throw new Error(`log type ${module.name} is already registered`);
  modules.set(module.name, module);
  refresh();
}

/** Forgets a plug-in log type (tests); the built-in ones stay. */
export function unregisterLogType(name: string): void {
  if (LOG_TYPE_MODULES.some((module) => module.name === name))
    throw new Error(`log type ${name} is built in`);
  modules.delete(name);
  refresh();
}

function refresh(): void {
  detectable = [...modules.values()].filter((module) => module.matches !== undefined);
  indicatorFields = [
    ...new Set([...GENERIC_INDICATOR_FIELDS, ...[...modules.values()].flatMap((m) => m.indicatorFields)]),
  ];
}

/** Whether every log type module this process knows is built in: a plug-in's is known to this thread only. */
export function onlyBuiltInLogTypes(): boolean {
  return modules.size === LOG_TYPE_MODULES.length;
}

/** The log types with a module of their own. */
export function logTypeModules(): readonly LogTypeModule[] {
  return [...modules.values()];
}

/**
 * The module for a log type name (case-sensitive, as Panther's names are). Unknown names are accepted with
 * the generic `p_` fields; checking that a name is acceptable at all is the caller's business. Generic
 * modules are made per call rather than cached, so caller-chosen names cannot grow a cache without bound:
 * look a module up once per batch, not once per event.
 */
export function logTypeModule(name: string): LogTypeModule {
  return modules.get(name) ?? createGenericModule(name);
}

/**
 * The log type an event's shape gives away, or `undefined`. Takes `unknown` (wider than a JsonObject) so
 * that the elements of a decoded batch can be passed as they are: anything but a plain object is no type.
 */
export function detectLogType(event: unknown): string | undefined {
  if (!isPlainObject(event)) return undefined;
  for (const module of detectable) {
    if (module.matches?.(event) === true) return module.name;
  }
  return undefined;
}

/** What the recognisable log types need of an event, for the error an unrecognised one gets. */
export function recognisedShapes(): string {
  return detectable.map((module) => module.recognisedBy ?? module.name).join('; ');
}

/** The source's own id of an event, for retry dedup, when its log type has one. */
export function eventIdOf(event: JsonObject, logType: string): string | undefined {
  return modules.get(logType)?.eventId?.(event);
}

/** Every `p_any_*` field a normaliser writes; other `p_any_*` keys an event arrives with are its own. */
export function indexedIndicatorFields(): readonly string[] {
  return indicatorFields;
}

/**
 * For a log type whose normalisation can wait (see LogTypeModule.deferrable): the p_event_time the event
 * will get, read without changing it. `undefined` for any other log type.
 */
export function deferredEventTime(event: JsonObject, logType: string, receivedAt: Date): string | undefined {
  const deferrable = modules.get(logType)?.deferrable;
  if (deferrable === undefined) return undefined;
  return deferrable.eventTime(event) ?? receivedIso(receivedAt);
}

/** Mutates and returns the event: adds p_log_type, p_event_time, p_parse_time, p_row_id, p_any_* and p_udm. */
export function normaliseEvent(event: JsonObject, logType: string, options: NormaliseOptions): JsonObject {
  const module = modules.get(logType);
  // Generic types go straight to the function: no module object made per event.
  if (module === undefined) normaliseGeneric(event, logType, options);
  else module.normalise(event, options);
  return event;
}
