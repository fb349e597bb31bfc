// From a decoded JSON value to an event ready for the rules: its log type, then normalisation. The CLI
// and the ingest API both go through here, so an event is treated the same wherever it arrives.
import { addDerivedFields, detectLogType, normaliseBaseFields, normaliseEvent } from './logtypes/index.js';
import { isPlainObject, type JsonObject } from './values.js';

export type PreparedEvent = { ok: true; logType: string; event: JsonObject } | { ok: false; error: string };

/** Log type names are identifiers such as AWS.CloudTrail or Okta.SystemLog. */
export const LOG_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isValidLogTypeName(name: string): boolean {
  return LOG_TYPE_PATTERN.test(name);
}

/**
 * The log type of an event: the one the caller names, else the event's own `p_log_type`, else a shape
 * the engine recognises (AWS CloudTrail).
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
  return {
    error:
      'no log type: name one (logType), set p_log_type in the event, or send a recognised shape such as AWS CloudTrail',
  };
}

/** Where an event whose derived fields wait keeps what completeEvent needs (a symbol: never data). */
const PENDING_DERIVED = Symbol('pending derived fields');

interface PendingDerived {
  logType: string;
  receivedAt: Date;
}

/**
 * Resolves the log type and normalises the event. With `deferDerivedFields`, costly derived fields
 * (CloudTrail's indicators and data model) wait until completeEvent: RuleSet.evaluate calls it before a
 * rule that reads them and before the outputs of a hit, so rules and hits see the complete event while
 * the many events that match nothing skip that work.
 */
export function prepareEvent(
  value: unknown,
  options: { logType?: string; receivedAt: Date; deferDerivedFields?: boolean },
): PreparedEvent {
  if (!isPlainObject(value)) return { ok: false, error: 'an event must be a JSON object' };
  const resolved = resolveLogType(value, options.logType);
  if ('error' in resolved) return { ok: false, error: resolved.error };
  const normalise = { receivedAt: options.receivedAt, keepExisting: false };
  if (options.deferDerivedFields !== true) normaliseEvent(value, resolved.logType, normalise);
  else if (normaliseBaseFields(value, resolved.logType, normalise)) {
    (value as Record<symbol, PendingDerived | undefined>)[PENDING_DERIVED] = pendingFor(
      resolved.logType,
      options.receivedAt,
    );
  }
  return { ok: true, logType: resolved.logType, event: value };
}

// The events of a batch share a log type and a receive time: one record serves them all.
let lastPending: PendingDerived | undefined;

function pendingFor(logType: string, receivedAt: Date): PendingDerived {
  if (lastPending?.logType !== logType || lastPending.receivedAt !== receivedAt) {
    lastPending = { logType, receivedAt };
  }
  return lastPending;
}

/** Adds the derived fields prepareEvent deferred, once; any other event is left as it is. */
export function completeEvent(event: unknown): void {
  if (!isPlainObject(event)) return;
  const holder = event as Record<symbol, PendingDerived | undefined>;
  const pending = holder[PENDING_DERIVED];
  if (pending === undefined) return;
  holder[PENDING_DERIVED] = undefined;
  addDerivedFields(event, pending.logType, { receivedAt: pending.receivedAt, keepExisting: false });
}
