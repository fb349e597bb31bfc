// Log types: which one an event is, and the `p_` fields each adds (DESIGN §1 "normalise", §3).
import { isPlainObject, type JsonObject } from '../values.js';
import { CLOUDTRAIL_LOG_TYPE, cloudTrailModule } from './cloudtrail.js';
import { receivedIso, type LogTypeModule, type NormaliseOptions } from './common.js';
import { createGenericModule, normaliseGeneric } from './generic.js';

export type { LogTypeModule, NormaliseOptions } from './common.js';
export { CLOUDTRAIL_LOG_TYPE, INDICATOR_KEYS } from './cloudtrail.js';
export { formatTimestamp, isoTimestamp, parseTimestamp } from './time.js';

/** Log types with a module of their own; every other name gets the generic one. */
const MODULES: ReadonlyMap<string, LogTypeModule> = new Map([[CLOUDTRAIL_LOG_TYPE, cloudTrailModule]]);

/** Modules that can recognise their events by shape, tried in this order by {@link detectLogType}. */
const DETECTABLE: readonly LogTypeModule[] = [cloudTrailModule];

/**
 * The module for a log type name (case-sensitive, as Panther's names are). Unknown names are accepted with
 * the generic `p_` fields; checking that a name is acceptable at all is the caller's business. Generic
 * modules are made per call rather than cached, so caller-chosen names cannot grow a cache without bound:
 * look a module up once per batch, not once per event.
 */
export function logTypeModule(name: string): LogTypeModule {
  return MODULES.get(name) ?? createGenericModule(name);
}

/**
 * The log type an event's shape gives away, or `undefined`. Takes `unknown` (wider than a JsonObject) so
 * that the elements of a decoded batch can be passed as they are: anything but a plain object is no type.
 */
export function detectLogType(event: unknown): string | undefined {
  if (!isPlainObject(event)) return undefined;
  for (const module of DETECTABLE) {
    if (module.matches?.(event) === true) return module.name;
  }
  return undefined;
}

/**
 * For a log type whose normalisation can wait (see LogTypeModule.deferrable): the p_event_time the event
 * will get, read without changing it. `undefined` for any other log type.
 */
export function deferredEventTime(event: JsonObject, logType: string, receivedAt: Date): string | undefined {
  const deferrable = MODULES.get(logType)?.deferrable;
  if (deferrable === undefined) return undefined;
  return deferrable.eventTime(event) ?? receivedIso(receivedAt);
}

/** Mutates and returns the event: adds p_log_type, p_event_time, p_parse_time, p_row_id, p_any_* and (CloudTrail) p_udm. */
export function normaliseEvent(event: JsonObject, logType: string, options: NormaliseOptions): JsonObject {
  const module = MODULES.get(logType);
  // Generic types go straight to the function: no module object made per event.
  if (module === undefined) normaliseGeneric(event, logType, options);
  else module.normalise(event, options);
  return event;
}
