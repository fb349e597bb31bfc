// Log types: which one an event is, and the `p_` fields each adds (DESIGN §1 "normalise", §3).
import { isPlainObject, type JsonObject } from '../values.js';
import { CLOUDTRAIL_LOG_TYPE, cloudTrailModule } from './cloudtrail.js';
import type { LogTypeModule, NormaliseOptions } from './common.js';
import { createGenericModule, normaliseGeneric } from './generic.js';

export type { LogTypeModule, NormaliseOptions } from './common.js';
export { CLOUDTRAIL_LOG_TYPE } from './cloudtrail.js';
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
 * Like normaliseEvent, but a log type whose derived fields can wait adds only its base fields now; the
 * answer says whether addDerivedFields is still to be called for this event.
 */
export function normaliseBaseFields(event: JsonObject, logType: string, options: NormaliseOptions): boolean {
  const deferrable = MODULES.get(logType)?.deferrable;
  if (deferrable === undefined) {
    normaliseEvent(event, logType, options);
    return false;
  }
  deferrable.normaliseBase(event, options);
  return true;
}

/** The derived fields that normaliseBaseFields left out. */
export function addDerivedFields(event: JsonObject, logType: string, options: NormaliseOptions): void {
  MODULES.get(logType)?.deferrable?.addDerivedFields(event, options);
}

/** Mutates and returns the event: adds p_log_type, p_event_time, p_parse_time, p_row_id, p_any_* and (CloudTrail) p_udm. */
export function normaliseEvent(event: JsonObject, logType: string, options: NormaliseOptions): JsonObject {
  const module = MODULES.get(logType);
  // Generic types go straight to the function: no module object made per event.
  if (module === undefined) normaliseGeneric(event, logType, options);
  else module.normalise(event, options);
  return event;
}
