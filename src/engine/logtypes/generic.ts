// Any log type without a module of its own gets the generic `p_` fields: a time from the usual fields, an
// IP address indicator, no data model and no event id.
import { getOwn, type JsonObject } from '../values.js';
import {
  IndicatorList,
  isIpAddress,
  needsField,
  putBaseFields,
  putField,
  type LogTypeModule,
  type NormaliseOptions,
} from './common.js';
import { isoTimestamp } from './time.js';

/**
 * Top-level fields that commonly hold an event's time, tried in this order; the first one that parses
 * wins, and an unparsable one is skipped. `p_event_time` comes first so that a forwarder (or a rule test
 * log) that already set it is believed. Sources in mind: CloudTrail-like `eventTime`, GCP/Duo `timestamp`,
 * Elastic/GitHub `@timestamp`, `time`, Asana/OneLogin `created_at`, Okta `published`, Auth0 `date`,
 * Zeek `ts`, Kubernetes audit `requestReceivedTimestamp`, `event_time`, `createdAt`.
 */
export const GENERIC_TIME_FIELDS: readonly string[] = [
  'p_event_time',
  'eventTime',
  'timestamp',
  '@timestamp',
  'time',
  'created_at',
  'published',
  'date',
  'ts',
  'requestReceivedTimestamp',
  'event_time',
  'createdAt',
];

/**
 * Top-level fields that commonly hold one IP address; only values that are IP addresses are kept. Nested
 * fields are left to real log type modules: this runs on every event of every unknown type, so it stays
 * a handful of own-property reads.
 */
export const GENERIC_IP_FIELDS: readonly string[] = [
  'ip',
  'ipAddress',
  'ip_address',
  'sourceIPAddress',
  'sourceIpAddress',
  'srcaddr',
  'dstaddr',
  'src_ip',
  'dst_ip',
  'client_ip',
  'clientIp',
  'remote_ip',
  'actor_ip',
];

/** p_event_time text from the first of GENERIC_TIME_FIELDS that holds a timestamp. */
export function genericEventTime(event: JsonObject): string | undefined {
  for (const field of GENERIC_TIME_FIELDS) {
    const value = getOwn(event, field);
    if (value === undefined || value === null) continue;
    const iso = isoTimestamp(value);
    if (iso !== undefined) return iso;
  }
  return undefined;
}

export function genericIpAddresses(event: JsonObject): string[] | undefined {
  const found = new IndicatorList();
  for (const field of GENERIC_IP_FIELDS) {
    const value = getOwn(event, field);
    if (typeof value === 'string' && isIpAddress(value)) found.add(value);
  }
  return found.result();
}

/** The generic `p_` fields, with `logType` as p_log_type. */
export function normaliseGeneric(event: JsonObject, logType: string, options: NormaliseOptions): void {
  const keep = options.keepExisting;
  putBaseFields(event, logType, genericEventTime, options);
  if (needsField(event, 'p_any_ip_addresses', keep)) {
    putField(event, 'p_any_ip_addresses', genericIpAddresses(event), keep);
  }
}

/** The indicator fields generic log types get. */
export const GENERIC_INDICATOR_FIELDS: readonly string[] = ['p_any_ip_addresses'];

export function createGenericModule(name: string): LogTypeModule {
  return {
    name,
    normalise: (event, options) => {
      normaliseGeneric(event, name, options);
    },
    indicatorFields: GENERIC_INDICATOR_FIELDS,
  };
}
