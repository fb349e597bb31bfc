import { describe, expect, it } from 'vitest';
import {
  EventDecoder,
  MAX_EVENT_CHARS,
  MAX_EVENT_DEPTH,
  type BodyShape,
  type DecodedItem,
} from './event-decoder.js';

/** Decodes `text` fed in chunks of `size` characters (every split point gets exercised). */
function decode(text: string, shape: BodyShape, size = text.length || 1): DecodedItem[] {
  const decoder = new EventDecoder(shape);
  const items: DecodedItem[] = [];
  for (let offset = 0; offset < text.length; offset += size)
    items.push(...decoder.write(text.slice(offset, offset + size)));
  items.push(...decoder.end());
  return items;
}

const events = (items: DecodedItem[]) =>
  items.map((item) => ('event' in item ? item.event : { error: item.error }));

const A = { eventName: 'A', nested: { list: [1, { x: '}]' }], text: 'quote " and \\ and {' } };
const B = { eventName: 'B', emoji: '👩‍💻', unicode: 'é' };
const C = { eventName: 'C' };

describe('EventDecoder', () => {
  const shapes: [string, string, BodyShape][] = [
    ['a JSON array', JSON.stringify([A, B, C]), 'json'],
    ['a pretty JSON array', JSON.stringify([A, B, C], null, 2), 'json'],
    ['NDJSON', [A, B, C].map((e) => JSON.stringify(e)).join('\n') + '\n', 'ndjson'],
    [
      'NDJSON with CRLF and blank lines',
      ['', JSON.stringify(A), '', JSON.stringify(B), JSON.stringify(C), ''].join('\r\n'),
      'ndjson',
    ],
    ['NDJSON read as JSON values', [A, B, C].map((e) => JSON.stringify(e)).join('\n'), 'json'],
    ['concatenated objects', [A, B, C].map((e) => JSON.stringify(e)).join(''), 'json'],
    ['concatenated pretty objects', [A, B, C].map((e) => JSON.stringify(e, null, 2)).join('\n'), 'json'],
    ['a CloudTrail Records file', JSON.stringify({ Records: [A, B, C] }), 'json'],
    ['a pretty Records file', JSON.stringify({ Records: [A, B, C] }, null, 4), 'json'],
    [
      'several Records files',
      JSON.stringify({ Records: [A, B] }) + '\n' + JSON.stringify({ Records: [C] }),
      'json',
    ],
    [
      'a Records file with another key after the list',
      JSON.stringify({ Records: [A, B, C], extra: { y: [1] } }),
      'json',
    ],
  ];

  for (const [name, text, shape] of shapes) {
    it(`decodes ${name}, whatever the chunk size`, () => {
      for (const size of [1, 2, 3, 7, 64, text.length]) {
        const items = decode(text, shape, size);
        expect(events(items), `chunks of ${size}`).toEqual([A, B, C]);
        expect(items.map((item) => item.index)).toEqual([0, 1, 2]);
      }
    });
  }

  it('decodes a single object as one event', () => {
    expect(events(decode(JSON.stringify(A), 'json', 5))).toEqual([A]);
    expect(events(decode(JSON.stringify({ Recordz: [1] }), 'json', 3))).toEqual([{ Recordz: [1] }]);
  });

  it('keeps going after an undecodable event, rejecting it alone with its index', () => {
    const lines = [JSON.stringify(A), '{"broken": tru}', 'not json at all', JSON.stringify(B)].join('\n');
    const items = decode(lines, 'ndjson', 4);
    expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3]);
    const invalid = { error: expect.stringMatching(/^invalid JSON/) as unknown };
    expect(events(items)).toEqual([A, invalid, invalid, B]);

    const values = decode(`[${JSON.stringify(A)}, {"a": nope}, ${JSON.stringify(B)}]`, 'json', 3);
    expect(values.map((item) => ('event' in item ? 'ok' : 'rejected'))).toEqual(['ok', 'rejected', 'ok']);

    const garbage = decode(`${JSON.stringify(A)}\nhello world\n${JSON.stringify(B)}`, 'json', 2);
    expect(events(garbage)).toEqual([
      A,
      { error: expect.stringMatching(/^invalid JSON at "hello world" \(character \d+\)$/) as unknown },
      B,
    ]);
  });

  it('reports a truncated body as one rejected event at the end', () => {
    const text = `[${JSON.stringify(A)}, {"eventName": "cut`;
    const items = decode(text, 'json', 5);
    expect(events(items)[0]).toEqual(A);
    expect(items[1]).toEqual({ index: 1, error: 'the body ends inside this event (truncated JSON)' });
    expect(decode('{"Records": [{"a": 1}, {"b"', 'json')).toEqual([
      { index: 0, event: { a: 1 } },
      { index: 1, error: 'the body ends inside this event (truncated JSON)' },
    ]);
  });

  it('passes scalars through for the caller to reject, and reads nothing from whitespace', () => {
    expect(events(decode('1 "two" true null', 'json', 2))).toEqual([1, 'two', true, null]);
    expect(decode('  \n\t ', 'json')).toEqual([]);
    expect(decode('', 'ndjson')).toEqual([]);
    expect(decode('[]', 'json')).toEqual([]);
    expect(decode('{"Records": []}', 'json')).toEqual([]);
  });

  it('rejects an event larger than the limit without stopping', () => {
    const big = JSON.stringify({ blob: 'x'.repeat(MAX_EVENT_CHARS) });
    const items = decode(`${big}\n${JSON.stringify(C)}\n`, 'ndjson', 65536);
    expect(items.map((item) => ('event' in item ? item.event : item.error))).toEqual([
      `event larger than ${MAX_EVENT_CHARS} characters`,
      C,
    ]);
    const valueItems = decode(`[${big}, ${JSON.stringify(C)}]`, 'json', 65536);
    expect(valueItems.map((item) => ('event' in item ? item.event : item.error))).toEqual([
      `event larger than ${MAX_EVENT_CHARS} characters`,
      C,
    ]);
  });

  it('rejects an event nested too deeply, in both shapes', () => {
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    const deep = nested(MAX_EVENT_DEPTH + 1);
    const ok = nested(MAX_EVENT_DEPTH);
    for (const shape of ['json', 'ndjson'] as const) {
      const items = decode(`${deep}\n${ok}\n`, shape, 7);
      expect(
        items.map((item) => ('error' in item ? item.error : 'ok')),
        shape,
      ).toEqual([`event nested deeper than ${MAX_EVENT_DEPTH} levels`, 'ok']);
    }
  });

  it('resumes every kind of long value across many chunks instead of rescanning it', () => {
    const long = { payload: 'y'.repeat(200_000), quote: '\\"' };
    expect(events(decode(JSON.stringify([long, C]), 'json', 100))).toEqual([long, C]);
    const digits = '1'.repeat(4_000_000);
    expect(decode(digits, 'json', 1000)).toEqual([
      { index: 0, error: `event larger than ${MAX_EVENT_CHARS} characters` },
    ]);
    const text = `"${'z'.repeat(3_000_000)}"`;
    expect(decode(text, 'json', 1000)).toEqual([
      { index: 0, error: `event larger than ${MAX_EVENT_CHARS} characters` },
    ]);
    const tail = `{"Records":[${JSON.stringify(C)}],"x":"${'a'.repeat(4_000_000)}"}`;
    expect(events(decode(tail, 'json', 1000))).toEqual([C]);
  });

  // The work is counted, not timed: appending each chunk to one string and reading it again made it grow
  // with the square of a value's length (1 MB in 1,000-character chunks took seconds).
  const unfinishedValues: [string, string, BodyShape][] = [
    ['an object with a long string', JSON.stringify([{ payload: 'y'.repeat(900_000) }, C]), 'json'],
    ['an object past the size limit', JSON.stringify([{ payload: 'y'.repeat(2_000_000) }, C]), 'json'],
    ['a long string value', `"${'z'.repeat(2_000_000)}" ${JSON.stringify(C)}`, 'json'],
    ['a long number', `${'1'.repeat(2_000_000)} ${JSON.stringify(C)}`, 'json'],
    ['a long NDJSON line', `${JSON.stringify({ p: 'q'.repeat(900_000) })}\n${JSON.stringify(C)}\n`, 'ndjson'],
    [
      'an NDJSON line past the limit',
      `${JSON.stringify({ p: 'q'.repeat(2_000_000) })}\n${JSON.stringify(C)}`,
      'ndjson',
    ],
    ['a long line that is not JSON', `${'#'.repeat(2_000_000)}\n${JSON.stringify(C)}`, 'json'],
    [
      'a long tail after a Records list',
      `{"Records":[${JSON.stringify(C)}],"x":"${'a'.repeat(2_000_000)}"}`,
      'json',
    ],
    [
      'a Records wrapper behind much whitespace',
      `{${' '.repeat(100_000)}"Records":[${JSON.stringify(C)}]}`,
      'json',
    ],
  ];

  for (const [name, text, shape] of unfinishedValues) {
    it(`does work linear in the body for ${name}, in chunks of any size`, () => {
      for (const size of [1000, 64 * 1024]) {
        const decoder = new EventDecoder(shape);
        const items: DecodedItem[] = [];
        for (let offset = 0; offset < text.length; offset += size)
          items.push(...decoder.write(text.slice(offset, offset + size)));
        items.push(...decoder.end());
        expect(items.length, `chunks of ${size}`).toBeGreaterThan(0);
        expect(decoder.work, `chunks of ${size}`).toBeLessThanOrEqual(4 * text.length);
      }
    });
  }

  it('keeps the events after a value past the size limit, whatever its kind', () => {
    for (const [name, text, shape] of unfinishedValues.slice(1, 4)) {
      const items = decode(text, shape, 1000);
      expect(events(items).at(-1), name).toEqual(C);
      expect(items[0], name).toEqual({ index: 0, error: `event larger than ${MAX_EVENT_CHARS} characters` });
    }
  });
});
