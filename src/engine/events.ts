// From a decoded JSON value to an event ready for the rules: its log type, then normalisation. The CLI
// and the ingest API both go through here, so an event is treated the same wherever it arrives.
import { deferredEventTime, detectLogType, normaliseEvent, recognisedShapes } from './logtypes/index.js';
import { isPlainObject, type JsonObject } from './values.js';

export type PreparedEvent =
  | {
      ok: true;
      logType: string;
      event: JsonObject;
      /** Its p_event_time (ISO 8601), written or to be written. */
      eventTime: string;
      /** Set when normalisation waits: pass it to RuleSet.evaluate. */
      deferred?: DeferredNormalisation;
    }
  | { ok: false; error: string };

/** Log type names are identifiers such as AWS.CloudTrail or Okta.SystemLog. */
export const LOG_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isValidLogTypeName(name: string): boolean {
  return LOG_TYPE_PATTERN.test(name);
}

/**
 * The log type of an event: the one the caller names, else the event's own `p_log_type`, else a shape
 * a log type module recognises.
 */
export function resolveLogType(
  event: JsonObject,
  explicit?: string,
): { logType: string } | { error: string } {
  if (explicit !== undefined) return { logType: explicit };
  const own = Object.prototype.hasOwnProperty.call(event, 'p_log_type') ? event.p_log_type : undefined;
  if (typeof own === 'string' && own !== '') {
    return isValidLogTypeName(own)
      ? { logType: own }
      : { error: `p_log_type ${JSON.stringify(own.slice(0, 100))} is not a log type name` };
  }
  const detected = detectLogType(event);
  if (detected !== undefined) return { logType: detected };
  const shapes = recognisedShapes();
  return {
    error: `no log type: name one (logType), set p_log_type in the event${shapes === '' ? '' : `, or send a recognised shape (${shapes})`}`,
  };
}

/** What completeEvent needs of an event prepareEvent left as it was: shared by the events of a batch. */
export interface DeferredNormalisation {
  readonly logType: string;
  readonly receivedAt: Date;
}

/**
 * Resolves the log type and normalises the event. With `deferNormalisation`, a log type whose `p_`
 * fields cost more than its time (CloudTrail: indicators, data model) is left as it is, with the time it
 * will have as `eventTime` and `deferred` to pass to RuleSet.evaluate: that normalises it before a rule
 * that reads a `p_` field and before the outputs of a hit, so rules and hits see the complete event while
 * the many events nothing matches skip the work.
 */
export function prepareEvent(
  value: unknown,
  options: { logType?: string; receivedAt: Date; deferNormalisation?: boolean },
): PreparedEvent {
  if (!isPlainObject(value)) return { ok: false, error: 'an event must be a JSON object' };
  const resolved = resolveLogType(value, options.logType);
  if ('error' in resolved) return { ok: false, error: resolved.error };
  const logType = resolved.logType;
  if (options.deferNormalisation === true) {
    const eventTime = deferredEventTime(value, logType, options.receivedAt);
    if (eventTime !== undefined) {
      const deferred = deferredFor(logType, options.receivedAt);
      return { ok: true, logType, event: value, eventTime, deferred };
    }
  }
  normaliseEvent(value, logType, { receivedAt: options.receivedAt, keepExisting: false });
  return { ok: true, logType, event: value, eventTime: String(value.p_event_time) };
}

// The events of a batch share a log type and a receive time: one record serves them all.
let lastDeferred: DeferredNormalisation | undefined;

function deferredFor(logType: string, receivedAt: Date): DeferredNormalisation {
  if (lastDeferred?.logType !== logType || lastDeferred.receivedAt !== receivedAt) {
    lastDeferred = { logType, receivedAt };
  }
  return lastDeferred;
}

/** Events completeEvent has normalised: both evaluation paths may ask, and it must happen once. */
const completed = new WeakSet<JsonObject>();

/** Normalises an event prepareEvent deferred; once, however often it is asked. */
export function completeEvent(event: JsonObject, deferred: DeferredNormalisation): void {
  if (completed.has(event)) return;
  completed.add(event);
  normaliseEvent(event, deferred.logType, { receivedAt: deferred.receivedAt, keepExisting: false });
}
