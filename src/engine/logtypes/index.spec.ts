import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../values.js';
import { GENERIC_TIME_FIELDS } from './generic.js';
import { CLOUDTRAIL_LOG_TYPE } from './cloudtrail.js';
import {
  detectLogType,
  logTypeModule,
  normaliseEvent,
  parseTimestamp,
  type NormaliseOptions,
} from './index.js';

const RECEIVED = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
const RECEIVED_ISO = '2024-01-02T03:04:05.006Z';
const INGEST: NormaliseOptions = { receivedAt: RECEIVED, keepExisting: false };
const RULE_TEST: NormaliseOptions = { receivedAt: RECEIVED, keepExisting: true };

const OKTA_EVENT: JsonObject = {
  uuid: 'f4c9a1e4-0b7e-11ee-9a6e-5b0d3c1c1e11',
  published: '2023-06-14T10:00:00.000Z',
  eventType: 'user.session.start',
  version: '0',
  severity: 'INFO',
  displayMessage: 'User login to Okta',
  actor: { id: '00u1', type: 'User', alternateId: 'jane@example.com', displayName: 'Jane' },
  client: { ipAddress: '198.51.100.7', userAgent: { rawUserAgent: 'Mozilla/5.0' } },
  outcome: { result: 'SUCCESS' },
};

const VPC_FLOW_ROW: JsonObject = {
  version: 2,
  account: '123456789012',
  interfaceId: 'eni-0123456789abcdef0',
  srcaddr: '10.0.1.5',
  dstaddr: '203.0.113.12',
  srcport: 443,
  dstport: 49152,
  protocol: 6,
  packets: 10,
  bytes: 8400,
  start: 1677628800,
  end: 1677628860,
  action: 'ACCEPT',
  logStatus: 'OK',
};

const GUARDDUTY_FINDING: JsonObject = {
  schemaVersion: '2.0',
  accountId: '123456789012',
  region: 'us-east-1',
  type: 'Recon:EC2/PortProbeUnprotectedPort',
  severity: 2,
  createdAt: '2023-03-01T00:00:00.000Z',
  service: { eventFirstSeen: '2023-03-01T00:00:00.000Z', action: { actionType: 'PORT_PROBE' } },
};

/** A CloudTrail record delivered through EventBridge: the record sits under `detail`, so it is not one itself. */
const EVENTBRIDGE_ENVELOPE: JsonObject = {
  version: '0',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.s3',
  time: '2023-03-01T00:00:00Z',
  detail: { eventVersion: '1.08', eventSource: 's3.amazonaws.com', eventName: 'GetObject', userIdentity: {} },
};

describe('logTypeModule', () => {
  it('gives the CloudTrail module for AWS.CloudTrail', () => {
    const module = logTypeModule(CLOUDTRAIL_LOG_TYPE);
    expect(module.name).toBe('AWS.CloudTrail');
    expect(typeof module.matches).toBe('function');
  });

  it('gives a generic module named after any other log type', () => {
    for (const name of ['Okta.SystemLog', 'Custom.Thing', 'aws.cloudtrail']) {
      const module = logTypeModule(name);
      expect(module.name).toBe(name);
      expect(typeof module.matches).toBe('undefined');
      const event: JsonObject = { time: '2023-03-01 00:00:00' };
      module.normalise(event, INGEST);
      expect(event.p_log_type).toBe(name);
      expect(event).not.toHaveProperty('p_udm');
    }
  });
});

describe('detectLogType', () => {
  it('recognises CloudTrail', () => {
    expect(
      detectLogType({
        eventVersion: '1.08',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        eventTime: '2023-03-01T00:00:00Z',
        userIdentity: { type: 'AWSAccount' },
      }),
    ).toBe(CLOUDTRAIL_LOG_TYPE);
  });

  it.each([
    ['an Okta event', OKTA_EVENT],
    ['a VPC flow log row', VPC_FLOW_ROW],
    ['a GuardDuty finding', GUARDDUTY_FINDING],
    ['an EventBridge envelope', EVENTBRIDGE_ENVELOPE],
    ['an empty object', {}],
    ['a string array element', 'eventVersion eventSource eventName'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an array', [{ eventVersion: '1.08', eventSource: 's', eventName: 'n', userIdentity: {} }]],
    [
      'CloudTrail field names with wrong types',
      { eventVersion: {}, eventSource: 's', eventName: 'n', userIdentity: {} },
    ],
    [
      'a record whose userIdentity is text',
      { eventVersion: '1.08', eventSource: 's', eventName: 'n', userIdentity: 'x' },
    ],
  ])('does not take %s for a known type', (_name, event) => {
    expect(detectLogType(event)).toBeUndefined();
  });

  it('does not read the fields through __proto__', () => {
    const event = JSON.parse(
      '{"__proto__":{"eventVersion":"1.08","eventSource":"s","eventName":"n","userIdentity":{}}}',
    ) as unknown;
    expect(detectLogType(event)).toBeUndefined();
    const inherited = Object.create({
      eventVersion: '1.08',
      eventSource: 's',
      eventName: 'n',
      userIdentity: {},
    }) as unknown;
    expect(detectLogType(inherited)).toBeUndefined();
  });
});

describe('normaliseEvent', () => {
  it('mutates and returns the same event', () => {
    const event: JsonObject = { a: 1 };
    expect(normaliseEvent(event, 'Custom.Thing', INGEST)).toBe(event);
    expect(event.a).toBe(1);
  });

  it('generates a 32-digit hex p_row_id when none is given, and uses the given one', () => {
    const first = normaliseEvent({}, 'Custom.Thing', INGEST).p_row_id;
    const second = normaliseEvent({}, 'Custom.Thing', INGEST).p_row_id;
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(second).toMatch(/^[0-9a-f]{32}$/);
    expect(first).not.toBe(second);
    expect(normaliseEvent({}, 'Custom.Thing', { ...INGEST, rowId: 'given' }).p_row_id).toBe('given');
  });

  it('throws a RangeError for an invalid receive time', () => {
    expect(() => normaliseEvent({}, 'Custom.Thing', { ...INGEST, receivedAt: new Date(Number.NaN) })).toThrow(
      RangeError,
    );
  });
});

describe('generic log types', () => {
  it('adds p_log_type, p_parse_time, p_row_id and p_event_time from the receive time when nothing else', () => {
    expect(normaliseEvent({ message: 'hi' }, 'Custom.Thing', { ...INGEST, rowId: 'r' })).toEqual({
      message: 'hi',
      p_log_type: 'Custom.Thing',
      p_event_time: RECEIVED_ISO,
      p_parse_time: RECEIVED_ISO,
      p_row_id: 'r',
    });
  });

  it.each([
    ['eventTime', '2023-03-01T00:00:00Z'],
    ['timestamp', '2023-03-01T00:00:00.000000Z'],
    ['@timestamp', 1677628800000],
    ['time', '2023-03-01 00:00:00'],
    ['created_at', '2023-03-01T01:00:00+01:00'],
    ['published', '2023-03-01T00:00:00.000Z'],
    ['date', '2023-03-01T00:00:00.000Z'],
    ['ts', 1677628800],
    ['requestReceivedTimestamp', '2023-03-01T00:00:00.000000Z'],
    ['event_time', '1677628800'],
    ['createdAt', '2023-03-01T00:00:00Z'],
  ])('takes p_event_time from %s', (field, value) => {
    expect(GENERIC_TIME_FIELDS).toContain(field);
    expect(normaliseEvent({ [field]: value }, 'Custom.Thing', INGEST).p_event_time).toBe(
      '2023-03-01T00:00:00.000Z',
    );
  });

  it('prefers a given p_event_time and rewrites it as ISO on ingest', () => {
    const event = normaliseEvent(
      { p_event_time: '2022-11-21 18:06:52', eventTime: '2023-03-01T00:00:00Z' },
      'Custom.Thing',
      INGEST,
    );
    expect(event.p_event_time).toBe('2022-11-21T18:06:52.000Z');
  });

  it('skips a time field that does not parse and tries the next', () => {
    const event = normaliseEvent(
      { eventTime: 'soon', timestamp: null, time: 1677628800 },
      'Custom.Thing',
      INGEST,
    );
    expect(event.p_event_time).toBe('2023-03-01T00:00:00.000Z');
  });

  it('gathers IP addresses from common top-level fields', () => {
    const event = normaliseEvent(
      {
        srcaddr: '10.0.1.5',
        dstaddr: '203.0.113.12',
        ip: '10.0.1.5',
        client_ip: 'localhost',
        actor_ip: '2001:db8::2',
      },
      'AWS.VPCFlow',
      INGEST,
    );
    expect(event.p_any_ip_addresses).toEqual(['10.0.1.5', '2001:db8::2', '203.0.113.12']);
    expect(normaliseEvent({ ip: 'nope' }, 'Custom.Thing', INGEST)).not.toHaveProperty('p_any_ip_addresses');
  });

  it('never overwrites with keepExisting', () => {
    const given = {
      p_log_type: 'Other.Type',
      p_event_time: '2022-11-21 18:06:52',
      p_parse_time: 'whatever',
      p_row_id: 'abc',
      p_any_ip_addresses: null,
    };
    const event = normaliseEvent({ ...given, ip: '10.0.0.1', time: 5 }, 'Custom.Thing', RULE_TEST);
    expect(event).toEqual({ ...given, ip: '10.0.0.1', time: 5 });
  });

  it('adds what is missing with keepExisting', () => {
    const event = normaliseEvent({ p_log_type: 'Custom.Thing', ip: '10.0.0.1' }, 'Custom.Thing', RULE_TEST);
    expect(event).toMatchObject({
      p_log_type: 'Custom.Thing',
      p_event_time: RECEIVED_ISO,
      p_parse_time: RECEIVED_ISO,
      p_any_ip_addresses: ['10.0.0.1'],
    });
    expect(event.p_row_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('does not pollute prototypes', () => {
    const event = JSON.parse(
      '{"__proto__":{"polluted":true,"ip":"10.9.9.9","time":0},"constructor":{"x":1}}',
    ) as JsonObject;
    normaliseEvent(event, 'Custom.Thing', INGEST);
    expect(({} as JsonObject).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(event).not.toHaveProperty('p_any_ip_addresses');
    expect(event.p_event_time).toBe(RECEIVED_ISO);
  });

  it('re-exports parseTimestamp', () => {
    expect(parseTimestamp('2023-03-01T00:00:00Z')).toBe(Date.UTC(2023, 2, 1));
  });
});
