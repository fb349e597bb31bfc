// Turns a request body, arriving in chunks, into events one at a time: a JSON array, NDJSON,
// concatenated JSON values, a single object, or CloudTrail's {"Records": [...]} file. Nothing waits for
// the whole body, and one undecodable event is rejected alone, with its index, while the rest go on.

export type DecodedItem = { index: number; event: unknown } | { index: number; error: string };

export type BodyShape = 'json' | 'ndjson';

/** An event bigger than this is rejected (CloudTrail's own limit is 256 KB). */
export const MAX_EVENT_CHARS = 1024 * 1024;
/** An event nested deeper than this is rejected: nothing real nests so deep, and it would strain every recursive step after. */
export const MAX_EVENT_DEPTH = 64;

export interface DecoderLimits {
  maxEventChars: number;
  maxDepth: number;
}

/** Where a scan through brackets stands, so that the next chunk resumes it instead of starting over. */
interface BracketScan {
  index: number;
  depth: number;
  deepest: number;
  inString: boolean;
}

/**
 * Walks brackets from `scan.index`, skipping strings, until the depth falls back to 0: returns the
 * position after that closing bracket, or -1 when the text ends first (`scan` then holds the place).
 * After an escape as the last character, `scan.index` is one past the end, so resuming there skips the
 * escaped character when it arrives.
 */
function scanBrackets(text: string, scan: BracketScan): number {
  let { index, depth, deepest, inString } = scan;
  for (; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
      if (depth === 0) {
        Object.assign(scan, { index: index + 1, depth, deepest, inString });
        return index + 1;
      }
    }
  }
  Object.assign(scan, { index, depth, deepest, inString });
  return -1;
}

/** Deepest bracket nesting of one JSON value's text, strings skipped. */
function bracketDepth(text: string): number {
  const scan = { index: 0, depth: 0, deepest: 0, inString: false };
  scanBrackets(text, scan);
  return scan.deepest;
}

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

const OPENING_BRACKETS = ['{', '['] as const;

const enum Mode {
  /** Between top-level values. */
  TopLevel,
  /** Inside a top-level array (or a Records array): between elements. */
  InList,
}

const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09, 0xfeff]);
/** What ends a number or literal: whitespace, a comma, or a bracket. */
const SCALAR_END = new Set([0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d]);

/**
 * A push decoder: feed it text with `write`, call `end` once; both return the items completed so far.
 * In `ndjson` shape every line is one value; in `json` shape values are found by their brackets, so
 * arrays and objects may span lines, and a Records wrapper is opened without buffering the file.
 */
export class EventDecoder {
  private buffer = '';
  /** Offset in `buffer` where scanning resumes. */
  private position = 0;
  private mode = Mode.TopLevel;
  /** Whether the current list is a `{"Records": [...]}` wrapper, which must be closed by `}`. */
  private listInWrapper = false;
  private nextIndex = 0;
  private consumedChars = 0;

  constructor(
    private readonly shape: BodyShape,
    private readonly limits: DecoderLimits = { maxEventChars: MAX_EVENT_CHARS, maxDepth: MAX_EVENT_DEPTH },
  ) {}

  /** How many events (good or bad) have been seen. */
  get count(): number {
    return this.nextIndex;
  }

  write(text: string): DecodedItem[] {
    this.buffer += text;
    return this.shape === 'ndjson' ? this.drainLines(false) : this.drainValues(false);
  }

  end(): DecodedItem[] {
    return this.shape === 'ndjson' ? this.drainLines(true) : this.drainValues(true);
  }

  private compact(): void {
    if (this.position > 0) {
      if (this.scan) {
        this.scan.start -= this.position;
        this.scan.index -= this.position;
      }
      if (this.wrapperScan) this.wrapperScan.index -= this.position;
      this.consumedChars += this.position;
      this.buffer = this.buffer.slice(this.position);
      this.position = 0;
    }
  }

  private emitParsed(text: string, items: DecodedItem[], knownDepth?: number): void {
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

  private drainLines(final: boolean): DecodedItem[] {
    const items: DecodedItem[] = [];
    if (this.skippingLine) {
      // The rest of a line already rejected as too long.
      const newline = this.buffer.indexOf('\n', this.position);
      this.position = newline < 0 ? this.buffer.length : newline + 1;
      this.skippingLine = newline < 0;
    }
    for (;;) {
      if (this.skippingLine) break;
      const newline = this.buffer.indexOf('\n', this.position);
      if (newline < 0) break;
      const line = this.buffer.slice(this.position, newline);
      this.position = newline + 1;
      if (line.trim() !== '') this.emitParsed(line, items);
    }
    if (final && !this.skippingLine) {
      const rest = this.buffer.slice(this.position);
      this.position = this.buffer.length;
      if (rest.trim() !== '') this.emitParsed(rest, items);
    } else if (!this.skippingLine && this.buffer.length - this.position > this.limits.maxEventChars) {
      // A line that never ends: reject it now rather than buffer the rest of the body.
      items.push({
        index: this.nextIndex++,
        error: `event larger than ${this.limits.maxEventChars} characters`,
      });
      this.position = this.buffer.length;
      this.skippingLine = true;
    }
    this.compact();
    return items;
  }

  private skippingLine = false;

  private drainValues(final: boolean): DecodedItem[] {
    const items: DecodedItem[] = [];
    const text = this.buffer;
    for (;;) {
      const start = this.skipWhitespace(text, this.position);
      if (start >= text.length) {
        this.position = start;
        break;
      }
      const code = text.charCodeAt(start);
      if (this.mode === Mode.InList) {
        if (code === 0x2c /* , */) {
          this.position = start + 1;
          continue;
        }
        if (code === 0x5d /* ] */) {
          if (this.listInWrapper) {
            // The rest of the wrapper object ({"Records": [...] ... }) is not events: skip to its end.
            const close = this.findWrapperEnd(text, start + 1);
            if (close < 0) {
              if (!final) {
                this.position = start;
                break;
              }
              this.position = text.length;
              break;
            }
            this.position = close;
          } else {
            this.position = start + 1;
          }
          this.mode = Mode.TopLevel;
          this.listInWrapper = false;
          continue;
        }
      } else {
        if (code === 0x5b /* [ */) {
          this.mode = Mode.InList;
          this.position = start + 1;
          continue;
        }
        if (code === 0x7b /* { */) {
          const records = this.recordsListStart(text, start);
          if (records === undefined && !final) {
            // Not enough text yet to tell a Records wrapper from an event.
            this.position = start;
            break;
          }
          if (records !== undefined && records >= 0) {
            this.mode = Mode.InList;
            this.listInWrapper = true;
            this.position = records;
            continue;
          }
        }
      }
      const end = this.valueEnd(text, start, final);
      if (end < 0) {
        if (!final) {
          this.position = start;
          break;
        }
        items.push({ index: this.nextIndex++, error: 'the body ends inside this event (truncated JSON)' });
        this.position = text.length;
        break;
      }
      if (end === start) {
        // Not the start of any JSON value: reject up to the next line and carry on from there.
        const newline = text.indexOf('\n', start);
        if (newline < 0 && !final) {
          this.position = start;
          break;
        }
        const stop = newline < 0 ? text.length : newline + 1;
        const excerpt = text.slice(start, Math.min(stop, start + 40)).trim();
        items.push({
          index: this.nextIndex++,
          error: `invalid JSON at ${JSON.stringify(excerpt)} (character ${this.consumedChars + start})`,
        });
        this.position = stop;
        this.mode = Mode.TopLevel;
        this.listInWrapper = false;
        continue;
      }
      this.emitParsed(text.slice(start, end), items, this.lastDepth);
      this.position = end;
    }
    this.compact();
    return items;
  }

  private skipWhitespace(text: string, from: number): number {
    let index = from;
    while (index < text.length && WHITESPACE.has(text.charCodeAt(index))) index += 1;
    return index;
  }

  /**
   * Where the list of a `{"Records": [` wrapper starts (just after its `[`); -1 when the object is not
   * such a wrapper; undefined when the text so far cannot tell.
   */
  private recordsListStart(text: string, brace: number): number | undefined {
    let index = this.skipWhitespace(text, brace + 1);
    const key = '"Records"';
    if (text.length - index < key.length)
      return text.startsWith(key.slice(0, text.length - index), index) ? undefined : -1;
    if (!text.startsWith(key, index)) return -1;
    index = this.skipWhitespace(text, index + key.length);
    if (index >= text.length) return undefined;
    if (text.charCodeAt(index) !== 0x3a /* : */) return -1;
    index = this.skipWhitespace(text, index + 1);
    if (index >= text.length) return undefined;
    return text.charCodeAt(index) === 0x5b /* [ */ ? index + 1 : -1;
  }

  /** Progress through the rest of a Records wrapper after its list, resumed chunk after chunk. */
  private wrapperScan: BracketScan | undefined;

  /** After a Records list: the position after the wrapper's closing `}`, skipping any other keys. */
  private findWrapperEnd(text: string, from: number): number {
    this.wrapperScan ??= { index: from, depth: 1, deepest: 1, inString: false };
    const end = scanBrackets(text, this.wrapperScan);
    if (end >= 0) this.wrapperScan = undefined;
    return end;
  }

  /** Progress through a bracketed value that has not ended yet, so that the next chunk resumes it. */
  private scan: (BracketScan & { start: number }) | undefined;
  /** Deepest nesting of the value valueEnd last completed. */
  private lastDepth = 0;

  /**
   * End (exclusive) of the JSON value starting at `start`: -1 when the text ends first; `start` itself
   * when no value starts there. Brackets are matched and strings skipped; JSON.parse checks the rest.
   */
  private valueEnd(text: string, start: number, final: boolean): number {
    const first = text.charCodeAt(start);
    if (first === 0x7b || first === 0x5b) {
      const scan =
        this.scan?.start === start
          ? this.scan
          : { start, index: start, depth: 0, deepest: 0, inString: false };
      const end = scanBrackets(text, scan);
      this.scan = end < 0 ? scan : undefined;
      this.lastDepth = scan.deepest;
      return end;
    }
    this.lastDepth = 0;
    const resume = this.scan?.start === start ? this.scan : undefined;
    if (first === 0x22) {
      let index = resume?.index ?? start + 1;
      for (; index < text.length; index += 1) {
        const code = text.charCodeAt(index);
        if (code === 0x5c) index += 1;
        else if (code === 0x22) {
          this.scan = undefined;
          return index + 1;
        }
      }
      this.scan = { start, index, depth: 0, deepest: 0, inString: true };
      return -1;
    }
    // Numbers, true, false, null: up to the next delimiter.
    if (/[-0-9tfn]/.test(text.charAt(start))) {
      let index = resume?.index ?? start;
      while (index < text.length && !SCALAR_END.has(text.charCodeAt(index))) index += 1;
      if (index === text.length && !final) {
        this.scan = { start, index, depth: 0, deepest: 0, inString: false };
        return -1;
      }
      this.scan = undefined;
      return index;
    }
    return start;
  }
}
