// Turns a request body, arriving in chunks, into events one at a time: a JSON array, NDJSON,
// concatenated JSON values, a single object, or CloudTrail's {"Records": [...]} file. Nothing waits for
// the whole body, and one undecodable event is rejected alone, with its index, while the rest go on.
//
// The work is linear in the body however it is cut: each character is scanned once, and a value that
// spans chunks is kept as a list of pieces, joined once when it ends (appending to one growing string
// and reading it again would copy it at every chunk). A value past the size limit stops being kept at
// all; its end is still found, so that the events after it go on.

export type DecodedItem = { index: number; event: unknown } | { index: number; error: string };

export type BodyShape = 'json' | 'ndjson';

/** An event bigger than this is rejected (CloudTrail's own limit is 256 KB). */
export const MAX_EVENT_CHARS = 1024 * 1024;
/** An event nested deeper than this is rejected: nothing real nests so deep, and it would strain every recursive step after. */
export const MAX_EVENT_DEPTH = 64;
/**
 * Whitespace a `{` may be followed by before the decoder tells a `{"Records": [` wrapper from an event;
 * past it, the object is read as an event.
 */
const WRAPPER_LOOKAHEAD_CHARS = 4096;

export interface DecoderLimits {
  maxEventChars: number;
  maxDepth: number;
}

/** How much of a line that is not JSON its rejection quotes. */
const EXCERPT_CHARS = 40;
const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09, 0xfeff]);
/** What ends a number or literal: whitespace, a comma, or a bracket. */
const SCALAR_END = new Set([0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d]);

/** Where the scan of one value stands, so that the next chunk resumes it. */
interface ValueScan {
  kind: 'bracketed' | 'string' | 'scalar';
  depth: number;
  deepest: number;
  inString: boolean;
  /** The previous character was a backslash inside a string. */
  escaped: boolean;
}

/**
 * Scans `text` from `from` for the end of the value `scan` describes: the position just after it, or -1
 * when the text ends first (`scan` then holds the place for the next piece). Strings are skipped, brackets
 * matched; JSON.parse checks the rest.
 */
function scanValue(text: string, from: number, scan: ValueScan): number {
  if (scan.kind === 'scalar') {
    for (let index = from; index < text.length; index += 1)
      if (SCALAR_END.has(text.charCodeAt(index))) return index;
    return -1;
  }
  let { depth, deepest, inString, escaped } = scan;
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === 0x5c) escaped = true;
      else if (code === 0x22) {
        inString = false;
        if (scan.kind === 'string') return index + 1;
      }
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
      if (depth === 0) {
        Object.assign(scan, { depth, deepest, inString, escaped });
        return index + 1;
      }
    }
  }
  Object.assign(scan, { depth, deepest, inString, escaped });
  return -1;
}

/**
 * The scan of a value that starts with `first`, to run from that character on (a string's from the one
 * after its opening quote); undefined when no JSON value starts with it.
 */
function startScan(first: number): ValueScan | undefined {
  if (first === 0x7b || first === 0x5b)
    return { kind: 'bracketed', depth: 0, deepest: 0, inString: false, escaped: false };
  if (first === 0x22) return { kind: 'string', depth: 0, deepest: 0, inString: true, escaped: false };
  // Numbers, true, false, null.
  if (
    first === 0x2d ||
    (first >= 0x30 && first <= 0x39) ||
    first === 0x74 ||
    first === 0x66 ||
    first === 0x6e
  )
    return { kind: 'scalar', depth: 0, deepest: 0, inString: false, escaped: false };
  return undefined;
}

/** Deepest bracket nesting of one JSON value's text, strings skipped. */
function bracketDepth(text: string): number {
  const scan: ValueScan = { kind: 'bracketed', depth: 0, deepest: 0, inString: false, escaped: false };
  scanValue(text, 0, scan);
  return scan.deepest;
}

const OPENING_BRACKETS = ['{', '['] as const;

/**
 * The nesting depth of a value's text when it may exceed `limit`, else a number at most `limit`. Counting
 * opening brackets (native searches, a few per event) bounds the depth; only text with more of them than
 * the limit is scanned character by character.
 */
function depthOver(text: string, limit: number): number {
  let brackets = 0;
  for (const bracket of OPENING_BRACKETS) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      if (++brackets > limit) return bracketDepth(text);
    }
  }
  return brackets;
}

/** Text of one item kept across chunks, up to the size limit; past it only its length is counted. */
class Pieces {
  private parts: string[] = [];
  length = 0;

  constructor(private readonly limit: number) {}

  get oversized(): boolean {
    return this.length > this.limit;
  }

  add(text: string): void {
    this.length += text.length;
    if (this.oversized) this.parts = [];
    else if (text !== '') this.parts.push(text);
  }

  join(): string {
    return this.parts.join('');
  }
}

/** An item that did not end in the text seen so far, and what the next chunk continues. */
type Pending =
  /** A JSON value (json shape): its text so far and where its scan stands. */
  | { kind: 'value'; pieces: Pieces; scan: ValueScan }
  /** An NDJSON line. */
  | { kind: 'line'; pieces: Pieces }
  /** Text that starts no JSON value, skipped to the end of its line and rejected with its start. */
  | { kind: 'garbage'; excerpt: string; at: number }
  /** The rest of a Records wrapper after its list (other keys, then its closing brace): not events. */
  | { kind: 'wrapper-tail'; scan: ValueScan };

const enum Mode {
  /** Between top-level values. */
  TopLevel,
  /** Inside a top-level array (or a Records array): between elements. */
  InList,
}

/**
 * A push decoder: feed it text with `write`, call `end` once; both return the items completed so far.
 * In `ndjson` shape every line is one value; in `json` shape values are found by their brackets, so
 * arrays and objects may span lines, and a Records wrapper is opened without buffering the file.
 */
export class EventDecoder {
  /** Text not yet decoded; it never holds more than one chunk and a short lookahead. */
  private buffer = '';
  /** Characters of the body before `buffer`. */
  private offset = 0;
  private pending: Pending | undefined;
  private mode = Mode.TopLevel;
  /** Whether the current list is a `{"Records": [...]}` wrapper, which must be closed by `}`. */
  private listInWrapper = false;
  private nextIndex = 0;
  private charactersHandled = 0;

  constructor(
    private readonly shape: BodyShape,
    private readonly limits: DecoderLimits = { maxEventChars: MAX_EVENT_CHARS, maxDepth: MAX_EVENT_DEPTH },
  ) {}

  /** How many events (good or bad) have been seen. */
  get count(): number {
    return this.nextIndex;
  }

  /**
   * Characters scanned, copied or joined so far: a measure of the decoder's work that stays within a
   * small multiple of the body's length however the body is cut (the tests hold it to that).
   */
  get work(): number {
    return this.charactersHandled;
  }

  write(text: string): DecodedItem[] {
    const items: DecodedItem[] = [];
    const rest = this.pending ? this.continuePending(text, items) : text;
    if (rest !== undefined) {
      this.buffer = this.buffer === '' ? rest : this.buffer + rest;
      this.charactersHandled += this.buffer.length;
      this.drain(items, false);
    }
    return items;
  }

  end(): DecodedItem[] {
    const items: DecodedItem[] = [];
    this.drain(items, true);
    const pending = this.pending;
    this.pending = undefined;
    if (pending?.kind === 'line') {
      this.emitLine(pending.pieces, items);
    } else if (pending?.kind === 'garbage') {
      this.rejectGarbage(pending, items);
    } else if (pending?.kind === 'value') {
      // A number or literal ends with the body; anything else was cut off.
      if (pending.scan.kind === 'scalar') this.emit(pending.pieces, items);
      else items.push({ index: this.nextIndex++, error: 'the body ends inside this event (truncated JSON)' });
    }
    return items;
  }

  /** Takes what `text` adds to the pending item; the text after the item, or undefined when it used all. */
  private continuePending(text: string, items: DecodedItem[]): string | undefined {
    const pending = this.pending as Pending;
    let end: number;
    if (pending.kind === 'value' || pending.kind === 'wrapper-tail') end = scanValue(text, 0, pending.scan);
    else {
      end = text.indexOf('\n');
      if (end >= 0) end += 1;
    }
    this.charactersHandled += end < 0 ? text.length : end;
    // A rejected line is quoted by its start, which may arrive in more than one piece.
    if (pending.kind === 'garbage' && pending.excerpt.length < EXCERPT_CHARS)
      pending.excerpt += text.slice(0, EXCERPT_CHARS - pending.excerpt.length);
    if (end < 0) {
      if (pending.kind === 'value' || pending.kind === 'line') pending.pieces.add(text);
      this.offset += text.length;
      return undefined;
    }
    this.pending = undefined;
    if (pending.kind === 'value') {
      pending.pieces.add(text.slice(0, end));
      this.emit(pending.pieces, items, pending.scan.kind === 'bracketed' ? pending.scan.deepest : 0);
    } else if (pending.kind === 'line') {
      pending.pieces.add(text.slice(0, end - 1));
      this.emitLine(pending.pieces, items);
    } else if (pending.kind === 'garbage') {
      this.rejectGarbage(pending, items);
    } else {
      this.mode = Mode.TopLevel;
      this.listInWrapper = false;
    }
    this.offset += end;
    return text.slice(end);
  }

  /** Decodes what `buffer` holds; what cannot end yet becomes `pending` (or stays, for a short lookahead). */
  private drain(items: DecodedItem[], final: boolean): void {
    const position = this.shape === 'ndjson' ? this.drainLines(items) : this.drainValues(items, final);
    this.offset += position;
    this.buffer = position >= this.buffer.length ? '' : this.buffer.slice(position);
  }

  /** Starts a pending item with the buffer's text from `start` on: the buffer is then used up. */
  private suspend(pending: Pending, start: number): number {
    if (pending.kind === 'value' || pending.kind === 'line') pending.pieces.add(this.buffer.slice(start));
    this.pending = pending;
    return this.buffer.length;
  }

  private drainLines(items: DecodedItem[]): number {
    const text = this.buffer;
    let position = 0;
    for (;;) {
      const newline = text.indexOf('\n', position);
      if (newline < 0) break;
      const line = text.slice(position, newline);
      position = newline + 1;
      if (line.trim() !== '') this.emitText(line, items);
    }
    if (position === text.length) return position;
    return this.suspend({ kind: 'line', pieces: new Pieces(this.limits.maxEventChars) }, position);
  }

  private drainValues(items: DecodedItem[], final: boolean): number {
    const text = this.buffer;
    let position = 0;
    for (;;) {
      const start = skipWhitespace(text, position);
      if (start >= text.length) return start;
      const code = text.charCodeAt(start);
      if (this.mode === Mode.InList) {
        if (code === 0x2c /* , */) {
          position = start + 1;
          continue;
        }
        if (code === 0x5d /* ] */) {
          if (this.listInWrapper) {
            // The rest of the wrapper object ({"Records": [...] ... }) is not events: skip to its end.
            const scan: ValueScan = {
              kind: 'bracketed',
              depth: 1,
              deepest: 1,
              inString: false,
              escaped: false,
            };
            const close = scanValue(text, start + 1, scan);
            this.charactersHandled += (close < 0 ? text.length : close) - start;
            if (close < 0) return this.suspend({ kind: 'wrapper-tail', scan }, text.length);
            position = close;
          } else {
            position = start + 1;
          }
          this.mode = Mode.TopLevel;
          this.listInWrapper = false;
          continue;
        }
      } else {
        if (code === 0x5b /* [ */) {
          this.mode = Mode.InList;
          position = start + 1;
          continue;
        }
        if (code === 0x7b /* { */) {
          const records = recordsListStart(text, start);
          // Not enough text yet to tell a Records wrapper from an event: wait for more, a little.
          if (records === undefined && !final && text.length - start < WRAPPER_LOOKAHEAD_CHARS) return start;
          if (records !== undefined && records >= 0) {
            this.mode = Mode.InList;
            this.listInWrapper = true;
            position = records;
            continue;
          }
        }
      }
      const scan = startScan(code);
      if (!scan) {
        // Not the start of any JSON value: reject up to the next line and carry on from there.
        const garbage: Pending = {
          kind: 'garbage',
          excerpt: text.slice(start, start + EXCERPT_CHARS),
          at: this.offset + start,
        };
        const newline = text.indexOf('\n', start);
        this.charactersHandled += (newline < 0 ? text.length : newline) - start;
        if (newline < 0 && !final) return this.suspend(garbage, text.length);
        this.rejectGarbage(garbage, items);
        position = newline < 0 ? text.length : newline + 1;
        this.mode = Mode.TopLevel;
        this.listInWrapper = false;
        continue;
      }
      const end = scanValue(text, start + (scan.kind === 'string' ? 1 : 0), scan);
      this.charactersHandled += (end < 0 ? text.length : end) - start;
      if (end < 0) {
        if (final && scan.kind !== 'scalar') {
          items.push({ index: this.nextIndex++, error: 'the body ends inside this event (truncated JSON)' });
          return text.length;
        }
        return this.suspend({ kind: 'value', pieces: new Pieces(this.limits.maxEventChars), scan }, start);
      }
      this.emitText(text.slice(start, end), items, scan.kind === 'bracketed' ? scan.deepest : 0);
      position = end;
    }
  }

  private rejectGarbage(garbage: Extract<Pending, { kind: 'garbage' }>, items: DecodedItem[]): void {
    const excerpt = garbage.excerpt.split('\n', 1)[0]?.trim() ?? '';
    items.push({
      index: this.nextIndex++,
      error: `invalid JSON at ${JSON.stringify(excerpt)} (character ${garbage.at})`,
    });
  }

  /** An NDJSON line: an event unless it is blank. */
  private emitLine(pieces: Pieces, items: DecodedItem[]): void {
    if (pieces.oversized) {
      this.emit(pieces, items);
      return;
    }
    const text = pieces.join();
    this.charactersHandled += text.length;
    if (text.trim() !== '') this.emitText(text, items);
  }

  private emit(pieces: Pieces, items: DecodedItem[], knownDepth?: number): void {
    if (pieces.oversized) {
      items.push({
        index: this.nextIndex++,
        error: `event larger than ${this.limits.maxEventChars} characters`,
      });
      return;
    }
    const text = pieces.join();
    this.charactersHandled += text.length;
    this.emitText(text, items, knownDepth);
  }

  private emitText(text: string, items: DecodedItem[], knownDepth?: number): void {
    const index = this.nextIndex++;
    if (text.length > this.limits.maxEventChars) {
      items.push({ index, error: `event larger than ${this.limits.maxEventChars} characters` });
      return;
    }
    const depth = knownDepth ?? depthOver(text, this.limits.maxDepth);
    if (depth > this.limits.maxDepth) {
      items.push({ index, error: `event nested deeper than ${this.limits.maxDepth} levels` });
      return;
    }
    try {
      items.push({ index, event: JSON.parse(text) as unknown });
    } catch (error) {
      items.push({ index, error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

function skipWhitespace(text: string, from: number): number {
  let index = from;
  while (index < text.length && WHITESPACE.has(text.charCodeAt(index))) index += 1;
  return index;
}

/**
 * Where the list of a `{"Records": [` wrapper starts (just after its `[`); -1 when the object is not
 * such a wrapper; undefined when the text so far cannot tell.
 */
function recordsListStart(text: string, brace: number): number | undefined {
  let index = skipWhitespace(text, brace + 1);
  const key = '"Records"';
  if (text.length - index < key.length)
    return text.startsWith(key.slice(0, text.length - index), index) ? undefined : -1;
  if (!text.startsWith(key, index)) return -1;
  index = skipWhitespace(text, index + key.length);
  if (index >= text.length) return undefined;
  if (text.charCodeAt(index) !== 0x3a /* : */) return -1;
  index = skipWhitespace(text, index + 1);
  if (index >= text.length) return undefined;
  return text.charCodeAt(index) === 0x5b /* [ */ ? index + 1 : -1;
}
