import { describe, expect, it } from 'vitest';
import { bulkOperations, logTypeOfIndex, MalformedBulkError } from './bulk-ndjson.js';
import { eventOfEnvelope, eventOfText, rawLines } from './hec-envelopes.js';

describe('HEC envelopes', () => {
  it('keep the event as sent, parse a string that holds an object, and wrap anything else', () => {
    expect(eventOfEnvelope({ sourcetype: 'aws:cloudtrail', event: { a: 1 } })).toEqual({
      ok: true,
      event: { a: 1 },
      sourcetype: 'aws:cloudtrail',
    });
    expect(eventOfEnvelope({ event: '{"a": 1}' })).toMatchObject({ ok: true, event: { a: 1 } });
    expect(eventOfEnvelope({ event: '{not json' })).toMatchObject({ event: { message: '{not json' } });
    expect(eventOfEnvelope({ event: 42 })).toMatchObject({ event: { message: 42 } });
    expect(eventOfText('[1, 2]')).toEqual({ message: '[1, 2]' });
  });

  it('name the HEC status of an envelope without an event', () => {
    expect(eventOfEnvelope({ sourcetype: 'x' })).toMatchObject({ ok: false, status: 'eventRequired' });
    expect(eventOfEnvelope({ event: null })).toMatchObject({ ok: false, status: 'eventRequired' });
    expect(eventOfEnvelope({ event: ' ' })).toMatchObject({ ok: false, status: 'eventBlank' });
    expect(eventOfEnvelope([1])).toMatchObject({ ok: false, status: 'invalidDataFormat' });
  });

  it('split raw bodies into non-blank lines, CRLF or LF', () => {
    expect(rawLines('a\r\nb\n\n  \nc')).toEqual(['a', 'b', 'c']);
  });
});

describe('bulk bodies', () => {
  const line = (index: number, event: unknown) => ({ index, event });

  it('pair actions with their sources; delete has none', () => {
    const operations = bulkOperations(
      [
        line(0, { index: { _index: 'cloudtrail-1', _id: 'a' } }),
        line(1, { eventName: 'x' }),
        line(2, { delete: { _id: 'a' } }),
        line(3, { create: {} }),
        { index: 4, error: 'invalid JSON' },
      ],
      'from-path',
    );
    expect(operations).toEqual([
      { action: 'index', index: 'cloudtrail-1', id: 'a', source: line(1, { eventName: 'x' }) },
      { action: 'delete', index: 'from-path', id: 'a' },
      { action: 'create', index: 'from-path', id: undefined, source: { index: 4, error: 'invalid JSON' } },
    ]);
  });

  it('refuse a bad action line, or an action without its source', () => {
    expect(() => bulkOperations([line(0, { upsert: {} }), line(1, {})], undefined)).toThrow(
      MalformedBulkError,
    );
    expect(() => bulkOperations([line(0, { index: {} })], undefined)).toThrow(/no source line/);
    expect(() => bulkOperations([{ index: 0, error: 'invalid JSON' }], undefined)).toThrow(/action line 1/);
  });

  it('map an index to a log type: exact, or by a prefix ending in *', () => {
    const patterns = [
      { pattern: 'cloudtrail*', logType: 'AWS.CloudTrail' },
      { pattern: 'okta', logType: 'Okta.SystemLog' },
    ];
    expect(logTypeOfIndex(patterns, 'cloudtrail-2025')).toBe('AWS.CloudTrail');
    expect(logTypeOfIndex(patterns, 'okta')).toBe('Okta.SystemLog');
    expect(logTypeOfIndex(patterns, 'okta-2025')).toBeUndefined();
    expect(logTypeOfIndex(patterns, undefined)).toBeUndefined();
  });
});
