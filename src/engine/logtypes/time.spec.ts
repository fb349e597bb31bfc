import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EPOCH_SECONDS_BELOW,
  formatTimestamp,
  isoTimestamp,
  isoTimestampMs,
  parseTimestamp,
} from './time.js';

const MARCH_1_2023 = Date.UTC(2023, 2, 1);

describe('parseTimestamp', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['2023-03-01T00:00:00Z', MARCH_1_2023],
    ['2023-03-01T00:00:00z', MARCH_1_2023],
    ['2023-03-01 00:00:00 UTC', MARCH_1_2023],
    ['2023-03-01T00:00:00 GMT', MARCH_1_2023],
    ['2023-03-01T00:00Z', MARCH_1_2023],
    ['2024-06-04T23:12:50Z', Date.UTC(2024, 5, 4, 23, 12, 50)],
  ])('reads ISO 8601 with Z: %s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    ['2023-03-01T00:00:00.1Z', 100],
    ['2023-03-01T00:00:00.12Z', 120],
    ['2023-03-01T00:00:00.123Z', 123],
    ['2023-03-01T00:00:00.123456Z', 123],
    ['2023-03-01T00:00:00.123456789Z', 123],
    // Truncated, not rounded: rounding .9999 up would move the time into the next second.
    ['2023-03-01T00:00:00.9999Z', 999],
    ['2023-03-01T00:00:00,5Z', 500],
  ])('reads fractional seconds: %s', (text, millis) => {
    expect(parseTimestamp(text)).toBe(MARCH_1_2023 + millis);
  });

  it.each([
    ['2023-03-01T02:00:00+02:00', MARCH_1_2023],
    ['2023-03-01T02:00:00+0200', MARCH_1_2023],
    ['2023-03-01T02:00:00+02', MARCH_1_2023],
    ['2023-02-28T18:30:00-05:30', MARCH_1_2023],
    ['2023-03-01T00:00:00+00:00', MARCH_1_2023],
    ['2023-03-01T05:45:00.250+05:45', MARCH_1_2023 + 250],
    ['2023-03-01 02:00:00 +0200', MARCH_1_2023],
  ])('reads ISO 8601 with an offset: %s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    ['2022-11-21 18:06:52', Date.UTC(2022, 10, 21, 18, 6, 52)],
    ['2022-11-21T18:06:52', Date.UTC(2022, 10, 21, 18, 6, 52)],
    ['2022-11-21T18:06:52.123', Date.UTC(2022, 10, 21, 18, 6, 52, 123)],
    ['2022-11-29 00:09:04.38', Date.UTC(2022, 10, 29, 0, 9, 4, 380)],
    ['2022-11-21t18:06:52', Date.UTC(2022, 10, 21, 18, 6, 52)],
    ['2022-11-21 18:06', Date.UTC(2022, 10, 21, 18, 6)],
    ['2022-11-21', Date.UTC(2022, 10, 21)],
    ['  2022-11-21 18:06:52  ', Date.UTC(2022, 10, 21, 18, 6, 52)],
  ])('reads a time without a zone as UTC: %s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it('never reads local time, whatever TZ the process has', () => {
    vi.stubEnv('TZ', 'America/New_York');
    // The trap being avoided: Date.parse reads a zoneless date-time as local time.
    expect(Date.parse('2022-11-21T18:06:52')).toBe(Date.UTC(2022, 10, 21, 23, 6, 52));
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC']) {
      vi.stubEnv('TZ', zone);
      expect(parseTimestamp('2022-11-21 18:06:52')).toBe(Date.UTC(2022, 10, 21, 18, 6, 52));
      expect(parseTimestamp('2022-11-21T18:06:52.123')).toBe(Date.UTC(2022, 10, 21, 18, 6, 52, 123));
      expect(parseTimestamp('2022-11-21')).toBe(Date.UTC(2022, 10, 21));
    }
  });

  it.each([
    [1677628800, MARCH_1_2023],
    [1677628800.5, MARCH_1_2023 + 500],
    [1677628800.123, MARCH_1_2023 + 123],
    [1677628800000, MARCH_1_2023],
    [1677628800000123, MARCH_1_2023],
    [1677628800000000000, MARCH_1_2023],
    [0, 0],
    [-86400, -86_400_000],
  ])('reads epoch numbers by their size: %d', (value, expected) => {
    expect(parseTimestamp(value)).toBe(expected);
  });

  it.each([
    ['1677628800', MARCH_1_2023],
    ['1677628800.25', MARCH_1_2023 + 250],
    ['1677628800000', MARCH_1_2023],
    [' 1677628800000 ', MARCH_1_2023],
    ['1677628800000000', MARCH_1_2023],
    ['1677628800000000000', MARCH_1_2023],
  ])('reads epoch numbers in strings: %s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it('puts the seconds/milliseconds cut-off at 1e11', () => {
    expect(EPOCH_SECONDS_BELOW).toBe(1e11);
    expect(parseTimestamp(99_999_999_999)).toBe(99_999_999_999_000);
    expect(parseTimestamp(100_000_000_000)).toBe(100_000_000_000);
  });

  it('reads years below 100 without Date.UTC moving them to the 1900s', () => {
    const ms = parseTimestamp('0050-06-15T12:00:00Z');
    expect(ms).toBeDefined();
    expect(new Date(ms ?? Number.NaN).toISOString()).toBe('0050-06-15T12:00:00.000Z');
  });

  it('reads valid Date objects', () => {
    expect(parseTimestamp(new Date(MARCH_1_2023))).toBe(MARCH_1_2023);
    expect(parseTimestamp(new Date(Number.NaN))).toBeUndefined();
  });

  it('accepts leap days and a leap second', () => {
    expect(parseTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseTimestamp('2016-12-31T23:59:60Z')).toBe(Date.UTC(2017, 0, 1));
  });

  it.each([
    '',
    '   ',
    'yesterday',
    'not a date',
    '2023-03-01T00:00:00Zjunk',
    '2023-02-29T00:00:00Z',
    '1900-02-29',
    '2023-04-31',
    '2023-13-01',
    '2023-00-10',
    '2023-03-00',
    '2023-03-01T24:00:00Z',
    '2023-03-01T12:60:00Z',
    '2023-03-01T12:00:61Z',
    '2023-03-01T12:00:00+24:00',
    '2023-03-01T12:00:00+05:60',
    '23-03-01',
    '2023/03/01',
    '2023-3-1',
    'Mar 1, 2023',
    '1e9',
    '0x10',
    '12:00:00',
    '2023-03-01T00:00:00.Z',
    `2023-03-01T00:00:00.${'1'.repeat(100)}Z`,
  ])('refuses garbage text %j', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });

  it.each([
    null,
    undefined,
    true,
    false,
    {},
    [],
    [1677628800],
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1e30,
    BigInt(1677628800),
  ])('refuses non-timestamps: %s', (value) => {
    expect(parseTimestamp(value)).toBeUndefined();
  });

  it("refuses times outside a Date's range", () => {
    // 9e21 ns is 9e15 ms, past Date's limit of 8.64e15 ms either side of 1970.
    expect(parseTimestamp(8.64e21)).toBe(8.64e15);
    expect(parseTimestamp(9e21)).toBeUndefined();
    expect(parseTimestamp(-9e21)).toBeUndefined();
  });
});

describe('formatTimestamp', () => {
  it('prints ISO 8601 UTC with milliseconds', () => {
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(formatTimestamp(MARCH_1_2023 + 7)).toBe('2023-03-01T00:00:00.007Z');
  });

  it('round-trips with parseTimestamp', () => {
    const ms = Date.UTC(2022, 10, 29, 0, 9, 4, 380);
    expect(parseTimestamp(formatTimestamp(ms))).toBe(ms);
  });

  it('throws a RangeError for values that are not a time', () => {
    expect(() => formatTimestamp(Number.NaN)).toThrow(RangeError);
    expect(() => formatTimestamp(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => formatTimestamp(9e15)).toThrow(RangeError);
  });
});

describe('isoTimestampMs', () => {
  it('reads every p_event_time as Date.parse does, canonical or not', () => {
    for (const text of [
      '2023-03-01T00:00:00.000Z',
      '2023-03-01T00:00:00.120Z',
      '0050-06-15T12:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00.000Z',
      '-000001-01-01T00:00:00.000Z',
      '2016-02-29T23:59:59.000Z',
      'not a time',
      '2023-02-29T00:00:00.000Z',
    ])
      expect(isoTimestampMs(text), text).toBe(Date.parse(text));
  });

  it('reads the digits of seeded random instants from year 0 to 9999 exactly as Date.parse does', () => {
    let seed = 424242;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const earliest = Date.parse('0000-01-01T00:00:00.000Z');
    const latest = Date.parse('9999-12-31T23:59:59.999Z');
    for (let index = 0; index < 5000; index += 1) {
      const text = new Date(earliest + Math.floor(next() * (latest - earliest))).toISOString();
      expect(isoTimestampMs(text), text).toBe(Date.parse(text));
      const whole = `${text.slice(0, 19)}Z`;
      expect(isoTimestampMs(whole), whole).toBe(Date.parse(whole));
    }
  });
});

describe('isoTimestamp', () => {
  it('reuses canonical CloudTrail text and normalises every other shape', () => {
    expect(isoTimestamp('2023-03-01T00:00:00Z')).toBe('2023-03-01T00:00:00.000Z');
    expect(isoTimestamp('2023-03-01T00:00:00.120Z')).toBe('2023-03-01T00:00:00.120Z');
    expect(isoTimestamp('2022-11-21 18:06:52')).toBe('2022-11-21T18:06:52.000Z');
    expect(isoTimestamp(1677628800)).toBe('2023-03-01T00:00:00.000Z');
    expect(isoTimestamp('2016-12-31T23:59:60Z')).toBe('2017-01-01T00:00:00.000Z');
    expect(isoTimestamp('0050-06-15T12:00:00Z')).toBe('0050-06-15T12:00:00.000Z');
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2023-03-01T24:00:00Z',
    '2023-03-01T00:00:00.12xZ',
    '2023-03-01T0a:00:00Z',
    'x',
  ])('refuses %j', (text) => {
    expect(isoTimestamp(text)).toBeUndefined();
  });

  it('agrees with formatTimestamp(parseTimestamp(…)) on the fast path', () => {
    // Deterministic pseudo-random instants across four millennia, written both canonical ways.
    let seed = 12345;
    for (let index = 0; index < 2000; index += 1) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const ms = Math.floor((seed / 2 ** 32) * 253402300799999);
      const full = new Date(ms).toISOString();
      const short = `${full.slice(0, 19)}Z`;
      expect(isoTimestamp(full)).toBe(full);
      expect(parseTimestamp(full)).toBe(ms);
      expect(isoTimestamp(short)).toBe(formatTimestamp(Math.floor(ms / 1000) * 1000));
    }
  });
});
