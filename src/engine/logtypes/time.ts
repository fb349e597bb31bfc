// Timestamps in the shapes log sources write them, always read as UTC.

/**
 * Numbers (and numeric strings) are epoch times whose unit is told by their size:
 * - |n| < 1e11 → seconds (1e11 s is the year 5138, so every real seconds value is below it);
 * - |n| < 1e14 → milliseconds (1e11 ms is 1973-03-03: milliseconds before then would be misread as seconds);
 * - |n| < 1e17 → microseconds;
 * - otherwise  → nanoseconds.
 * Fractions are kept and rounded to the nearest millisecond.
 */
export const EPOCH_SECONDS_BELOW = 1e11;
const EPOCH_MILLISECONDS_BELOW = 1e14;
const EPOCH_MICROSECONDS_BELOW = 1e17;

/** The range of a JavaScript Date, in ms either side of 1970. */
const MAX_EPOCH_MS = 8.64e15;
/** Longer strings are not timestamps; refusing them early keeps garbage cheap. */
const MAX_TEXT_LENGTH = 64;

const NUMERIC = /^[+-]?\d+(?:\.\d+)?$/;
// YYYY-MM-DD, then optionally [T or space]hh:mm[:ss[.fraction]], then optionally a zone:
// Z, UTC or GMT, or an offset ±hh, ±hhmm or ±hh:mm (a space before the zone is allowed).
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?: ?(?:([Zz]|UTC|GMT)|([+-])(\d{2})(?::?(\d{2}))?))?$/;

/**
 * Epoch milliseconds of a timestamp, or `undefined` when the value is not one. Accepts ISO 8601 with `Z`
 * or an offset, ISO 8601 without a zone (read as UTC, never local time), a date alone (midnight UTC),
 * epoch seconds/ms/µs/ns as numbers or numeric strings (see {@link EPOCH_SECONDS_BELOW}), and Date objects.
 * Fractional seconds may have any number of digits; they are truncated to milliseconds.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return fromEpochNumber(value);
  if (typeof value === 'string') return parseCanonical(value) ?? parseText(value);
  if (value instanceof Date) return checkRange(value.getTime());
  return undefined;
}

/**
 * `formatTimestamp(parseTimestamp(value))`, or `undefined` when the value is not a timestamp. CloudTrail's
 * own `2023-03-01T00:00:00Z` (and the `.123Z` form) is checked and reused as text, skipping the Date
 * round trip: this runs once per ingested event.
 */
export function isoTimestamp(value: unknown): string | undefined {
  if (typeof value === 'string' && parseCanonical(value) !== undefined) {
    return value.length === 24 ? value : `${value.slice(0, 19)}.000Z`;
  }
  const ms = parseTimestamp(value);
  return ms === undefined ? undefined : formatTimestamp(ms);
}

/**
 * The epoch milliseconds of a p_event_time (what isoTimestamp writes), NaN when it is not a time: the
 * canonical shape without Date.parse, which costs ingest more per event than reading the digits.
 */
export function isoTimestampMs(text: string): number {
  return parseCanonical(text) ?? Date.parse(text);
}

/** ISO 8601 in UTC with milliseconds, e.g. `2023-03-01T00:00:00.000Z`. Throws RangeError outside Date's range. */
export function formatTimestamp(ms: number): string {
  if (checkRange(ms) === undefined)
    throw new RangeError(`${String(ms)} is not a valid epoch time in milliseconds`);
  return new Date(ms).toISOString();
}

function checkRange(ms: number): number | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
}

function fromEpochNumber(value: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  const size = Math.abs(value);
  let ms: number;
  if (size < EPOCH_SECONDS_BELOW) ms = value * 1000;
  else if (size < EPOCH_MILLISECONDS_BELOW) ms = value;
  else if (size < EPOCH_MICROSECONDS_BELOW) ms = value / 1000;
  else ms = value / 1e6;
  return checkRange(Math.round(ms));
}

/**
 * Fast path for exactly `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ`, the shapes CloudTrail and
 * toISOString write: no regex, no allocation. Anything else (including a leap second) is `undefined` and
 * left to the general parser, which accepts a superset of these strings with the same result.
 */
function parseCanonical(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (text.charCodeAt(length - 1) !== 90 /* Z */ || text.charCodeAt(10) !== 84 /* T */) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return undefined;
  if (length === 24 && text[19] !== '.') return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const millis = length === 24 ? digits(text, 20, 3) : 0;
  // digits() gives -1 for a non-digit, which every range check below refuses.
  if (year < 0 || millis < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  return utcMs(year, month, day, hour, minute, second, millis);
}

/**
 * Days from 1970-01-01 to a valid proleptic Gregorian date (month 1 to 12), by arithmetic on 400-year
 * eras of 146,097 days, with the year taken to start in March so that February's length comes last:
 * what Date.UTC computes, without its call (which also reads years under 100 as 19xx).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const marchYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(marchYear / 400);
  const yearOfEra = marchYear - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The decimal number in text[start, start + count), or -1 when a character there is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Epoch milliseconds of a valid date (month 1 to 12) and a time; a second of 60 rolls into the next minute. */
function utcMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
}

function parseText(raw: string): number | undefined {
  if (raw.length === 0 || raw.length > MAX_TEXT_LENGTH) return undefined;
  const text = raw.trim();
  if (NUMERIC.test(text)) return fromEpochNumber(Number(text));
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [
    ,
    yearText,
    monthText,
    dayText,
    hourText,
    minuteText,
    secondText,
    fraction,
    utc,
    sign,
    offsetHours,
    offsetMinutes,
  ] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = hourText === undefined ? 0 : Number(hourText);
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  // 60 is a leap second: it rolls into the next minute rather than being refused.
  const second = secondText === undefined ? 0 : Number(secondText);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let ms = utcMs(year, month, day, hour, minute, second, millis);
  if (utc === undefined && sign !== undefined) {
    const hours = Number(offsetHours);
    const minutes = offsetMinutes === undefined ? 0 : Number(offsetMinutes);
    if (hours > 23 || minutes > 59) return undefined;
    // Local time minus its offset is UTC.
    ms -= (sign === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return checkRange(ms);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
