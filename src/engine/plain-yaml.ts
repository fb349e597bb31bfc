// A fast reader for the plain YAML that rule files are written in: one document of mappings, sequences
// and scalars, with no tags, anchors, aliases, directives or document markers. js-yaml's event parser
// reads it several times faster than the `yaml` library, which builds a whole document of nodes; the
// value is then built here the way `yaml`'s toJS builds it, with `yaml`'s own scalar types. A source
// outside that subset, or one that `yaml` could read differently or refuse, is not read here
// (undefined): the caller reads it with `yaml`, which also gives every error its line and column.
import {
  COLLECTION_STYLE,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  SCALAR_STYLE,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import { Document, isScalar, type DocumentOptions, type ParseOptions, type ScalarTag } from 'yaml';

/** The options rule sources are parsed with by `yaml`; the fast reader resolves scalars as they make it. */
export const RULE_YAML_OPTIONS: ParseOptions & DocumentOptions = { prettyErrors: false, uniqueKeys: true };

/** The YAML spec limits an implicit key to 1024 characters up to its `:`; `yaml` enforces it, js-yaml not. */
const MAX_IMPLICIT_KEY_CHARS = 1024;

/**
 * Characters whose handling parsers have differed on (tabs, carriage returns, Unicode line breaks, a
 * byte-order mark): a source holding any is left to `yaml`.
 */
const UNUSUAL_CHARACTERS = /[\t\r\x85\u2028\u2029\uFEFF]/;

/** A block scalar header's indentation indicator (`|2`, `>-1`), or something that looks like one. */
const INDENTATION_INDICATOR = /[|>][+-]?[0-9]/;
/** Only spaces and line breaks (or nothing). */
const BLANK = /^[ \n]*$/;

/** `---` or `...` opening a line: a document marker, which js-yaml and `yaml` have split differently. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)/m;

const reference = new Document(null, RULE_YAML_OPTIONS);
/** The types `yaml` tries, in its order, on a plain scalar: null, booleans, integers, floats. */
const plainScalarTags = reference.schema.tags.filter(
  (tag): tag is ScalarTag & { test: RegExp } =>
    tag.default === true && !tag.collection && tag.test instanceof RegExp,
);
/** Schemas with key-only types (the merge key `<<`) are not reproduced here. */
const schemaSupported = !reference.schema.tags.some((tag) => tag.default === 'key');
const resolveOptions = reference.options;

export interface PlainDocument {
  value: unknown;
  /** 1-based line where the document's content starts. */
  line: number;
}

/** Thrown inside the reader for anything it leaves to `yaml`. */
class NotPlain extends Error {}

function notPlain(): never {
  throw new NotPlain();
}

/** The value of a source that is one plain mapping, or undefined when `yaml` must read it. */
export function readPlainYaml(text: string): PlainDocument | undefined {
  if (!schemaSupported || UNUSUAL_CHARACTERS.test(text) || DOCUMENT_MARKER.test(text)) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined; // a syntax error: `yaml` reports it with its position
  }
  try {
    return buildDocument(text, events);
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}

/** What `yaml`'s core types resolve a scalar to. */
type PlainScalar = string | number | boolean | bigint | null;

/** A mapping or sequence being filled. */
interface Open {
  value: Record<string, unknown> | unknown[];
  block: boolean;
  /** Where it starts in the text. */
  start: number;
  /** In a mapping, the key read and waiting for its value. */
  key: string | undefined;
}

function buildDocument(text: string, events: readonly Event[]): PlainDocument {
  const [first, root] = events;
  if (first?.type !== EVENT_ID.DOCUMENT || first.explicitStart || first.explicitEnd) notPlain();
  if (first.directives.length > 0) notPlain();
  // A rule is a mapping; anything else gets `yaml`'s error and position.
  if (root?.type !== EVENT_ID.MAPPING) notPlain();
  const open: Open[] = [];
  let value: unknown;
  let last: Event = root;
  /** Where the text after the previous event starts, at the latest. */
  let previousEnd = root.start;
  let index = 1;
  for (; index < events.length; index++) {
    const event = events[index] as Event;
    if (event.type === EVENT_ID.POP) {
      // The collection's end is not given: the text after it is taken to start where it started.
      previousEnd = (open.pop() as Open).start;
      if (open.length === 0) break;
      continue;
    }
    last = event;
    if (event.type === EVENT_ID.ALIAS || event.type === EVENT_ID.DOCUMENT) notPlain();
    if (event.anchorStart !== -1 || event.tagStart !== -1) notPlain();
    const parent = open.at(-1);
    const start = event.type === EVENT_ID.SCALAR ? event.valueStart : event.start;
    // A comment inside a flow collection: the parsers have disagreed on what may follow it.
    if (parent && !parent.block && start !== -1 && text.slice(previousEnd, start).includes('#')) notPlain();
    if (start !== -1) previousEnd = event.type === EVENT_ID.SCALAR ? event.valueEnd : start;
    const atKey = parent !== undefined && !Array.isArray(parent.value) && parent.key === undefined;
    if (event.type === EVENT_ID.SCALAR) {
      const scalar = scalarValue(text, event);
      // A plain scalar on a line of its own after a comment line: `yaml` can read the next line into it.
      if (event.style === SCALAR_STYLE.PLAIN && !(atKey && parent.block) && followsComment(text, event))
        notPlain();
      if (atKey) parent.key = mappingKey(text, event, scalar, parent);
      else add(parent, scalar);
      continue;
    }
    // A collection as a key is stringified by `yaml` with a warning: not reproduced here.
    if (atKey) notPlain();
    // In a flow sequence, `[a: b]` is a mapping of one pair with rules of its own.
    if (event.type === EVENT_ID.MAPPING && event.style === COLLECTION_STYLE.FLOW && text[event.start] !== '{')
      notPlain();
    const collection: Open = {
      value: event.type === EVENT_ID.MAPPING ? {} : [],
      block: event.style === COLLECTION_STYLE.BLOCK,
      start: event.start,
      key: undefined,
    };
    if (parent === undefined) value = collection.value;
    else add(parent, collection.value);
    open.push(collection);
  }
  // Events after the document's end (a second document) leave it to `yaml`.
  if (index + 2 !== events.length || events[index + 1]?.type !== EVENT_ID.POP) notPlain();
  // `yaml` ends a document whose last value is empty (`Key:`) before the final line break, so the
  // rule's text would not be the whole source.
  if (last.type === EVENT_ID.SCALAR && last.valueStart === -1) notPlain();
  return { value, line: lineAt(text, root.start) };
}

function add(parent: Open | undefined, value: unknown): void {
  if (parent === undefined) notPlain();
  if (Array.isArray(parent.value)) {
    parent.value.push(value);
    return;
  }
  const key = parent.key as string;
  parent.key = undefined;
  // As `yaml` does: a key the object inherits (`__proto__`, `toString`) becomes its own property.
  if (key in parent.value)
    Object.defineProperty(parent.value, key, { value, writable: true, enumerable: true, configurable: true });
  else parent.value[key] = value;
}

/** A scalar key as `yaml`'s toJS names it in an object; a key met twice is `yaml`'s error to report. */
function mappingKey(text: string, event: ScalarEvent, scalar: PlainScalar, mapping: Open): string {
  if (mapping.block) {
    // An empty key, or one whose `:` is too far (counted from before a quote, to be safe).
    if (event.valueStart === -1) notPlain();
    const colon = text.indexOf(':', event.valueEnd);
    if (colon === -1 || colon - (event.valueStart - 1) > MAX_IMPLICIT_KEY_CHARS) notPlain();
  }
  const key = scalar === null ? '' : String(scalar);
  if (Object.prototype.hasOwnProperty.call(mapping.value, key)) notPlain();
  return key;
}

function scalarValue(text: string, event: ScalarEvent): PlainScalar {
  const source = getScalarValue(text, event);
  if (event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK) {
    // The two parsers differ on explicit indentation (`|2`) and on a block of nothing but blank lines.
    if (event.valueStart === -1 || BLANK.test(source)) notPlain();
    const headerStart = text.lastIndexOf('\n', Math.max(0, event.valueStart - 2)) + 1;
    if (INDENTATION_INDICATOR.test(text.slice(headerStart, event.valueStart))) notPlain();
    return source;
  }
  // An escaped line break before blank lines: the two parsers fold them differently.
  if (
    event.style === SCALAR_STYLE.DOUBLE_QUOTED &&
    text.slice(event.valueStart, event.valueEnd).includes('\\\n')
  )
    notPlain();
  if (event.style !== SCALAR_STYLE.PLAIN) return source;
  const tag = plainScalarTags.find((candidate) => candidate.test.test(source));
  if (tag === undefined) return source;
  let resolved: unknown;
  try {
    resolved = tag.resolve(source, notPlain, resolveOptions);
  } catch {
    notPlain(); // `yaml` reports a type that fails to resolve as an error
  }
  const value = isScalar(resolved) ? resolved.value : resolved;
  if (value !== null && typeof value === 'object') notPlain();
  return value as PlainScalar;
}

/** Whether a scalar starts its line, and comment lines come between it and the content above. */
function followsComment(text: string, event: ScalarEvent): boolean {
  if (event.valueStart === -1) return false;
  let lineStart = event.valueStart;
  for (; lineStart > 0 && text[lineStart - 1] !== '\n'; lineStart--)
    if (text[lineStart - 1] !== ' ') return false;
  while (lineStart > 0) {
    const previousStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    const line = text.slice(previousStart, lineStart - 1).trim();
    if (line.startsWith('#')) return true;
    if (line !== '') return false;
    lineStart = previousStart;
  }
  return false;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) line++;
  return line;
}
