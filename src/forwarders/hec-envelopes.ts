// Splunk HTTP Event Collector payloads, framework-free: the envelopes of /services/collector/event
// ({time, host, source, sourcetype, index, event, fields}, concatenated), the lines of
// /services/collector/raw, and HEC's status codes. Only `event` and `sourcetype` are used: the event is
// kept as sent, and the sourcetype may name its log type.
import { isPlainObject, type JsonObject } from '../engine/values.js';

/** HEC's own answer codes (Splunk docs, "Troubleshoot HTTP Event Collector"), with their HTTP status. */
export const HEC_STATUS = {
  success: { text: 'Success', code: 0, status: 200 },
  tokenRequired: { text: 'Token is required', code: 2, status: 401 },
  invalidAuthorization: { text: 'Invalid authorization', code: 3, status: 403 },
  invalidToken: { text: 'Invalid token', code: 4, status: 403 },
  noData: { text: 'No data', code: 5, status: 400 },
  invalidDataFormat: { text: 'Invalid data format', code: 6, status: 400 },
  internalError: { text: 'Internal server error', code: 8, status: 500 },
  serverBusy: { text: 'Server is busy', code: 9, status: 503 },
  eventRequired: { text: 'Event field is required', code: 12, status: 400 },
  eventBlank: { text: 'Event field cannot be blank', code: 13, status: 400 },
  healthy: { text: 'HEC is healthy', code: 17, status: 200 },
} as const;

export type HecStatusName = keyof typeof HEC_STATUS;

export type HecEnvelopeEvent =
  | { ok: true; event: JsonObject; sourcetype: string | undefined }
  | { ok: false; status: HecStatusName; reason: string };

/** The event inside one envelope, or which HEC status refuses it. */
export function eventOfEnvelope(envelope: unknown): HecEnvelopeEvent {
  if (!isPlainObject(envelope))
    return { ok: false, status: 'invalidDataFormat', reason: 'an envelope must be a JSON object' };
  if (!('event' in envelope) || envelope.event === null)
    return { ok: false, status: 'eventRequired', reason: 'the envelope has no event' };
  const sourcetype = typeof envelope.sourcetype === 'string' ? envelope.sourcetype : undefined;
  const { event } = envelope;
  if (typeof event === 'string') {
    if (event.trim() === '') return { ok: false, status: 'eventBlank', reason: 'the event is blank' };
    return { ok: true, event: eventOfText(event), sourcetype };
  }
  return { ok: true, event: isPlainObject(event) ? event : { message: event }, sourcetype };
}

/** A line or string event: a JSON object in text is that object; anything else is a message. */
export function eventOfText(text: string): JsonObject {
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isPlainObject(parsed)) return parsed;
    } catch {
      // Not JSON after all: kept as text.
    }
  }
  return { message: text };
}

/** The non-blank lines of a /raw body, each one event (a trailing \r of CRLF dropped). */
export function rawLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.trim() !== '');
}

/** The log type a sourcetype names (HEC_SOURCETYPES); undefined leaves it to the event itself. */
export function logTypeOfSourcetype(
  sourcetypes: ReadonlyMap<string, string>,
  sourcetype: string | undefined,
): string | undefined {
  return sourcetype === undefined ? undefined : sourcetypes.get(sourcetype);
}
