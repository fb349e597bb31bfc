// What a hit carries besides "it matched": title, dedup key, severity and the output fields
// (Panther's AlertContext), each computed from the (normalised) event.
import { compileMatchList, keyGetter, type EventPredicate } from './panther/compile.js';
import { parseKeyPath, compileGetter, PathSyntaxError, type ValueGetter } from './paths.js';
import type { RuleDefinition, Severity } from './rule.js';
import {
  BoundedText,
  detached,
  displayValue,
  jsonPrefix,
  setOwn,
  truncate,
  type JsonObject,
} from './values.js';

/** Titles and dedup keys are cut to this many characters. */
export const MAX_TITLE_LENGTH = 1000;
export const MAX_DEDUP_LENGTH = 1000;
/** Placeholders one AlertTitle may hold: a title shows a handful of values, and each costs a read per hit. */
export const MAX_TEMPLATE_PLACEHOLDERS = 100;
/** Output fields one rule may name (AlertContext), and key specifiers in one GroupBy. */
export const MAX_ALERT_CONTEXT_FIELDS = 100;
export const MAX_GROUP_BY_KEYS = 20;
/**
 * A hit's output fields, written as JSON, take about this many characters at most: a field that would
 * go past it is kept as the start of its JSON text, so a rule cannot make a hit as large as its event
 * times its number of fields.
 */
export const MAX_ALERT_CONTEXT_CHARS = 64 * 1024;

export interface RuleOutputs {
  title: string;
  dedup: string;
  severity: Severity;
  alertContext: JsonObject;
}

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset into the template. */
    readonly offset: number,
    readonly code: 'template_syntax' | 'too_many' = 'template_syntax',
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

type TemplatePart = string | ValueGetter;

/**
 * `AlertTitle` templates: `{path}` inserts the event's value at that key path (dots and `[n]`),
 * `{{` and `}}` write a literal brace. A missing value is written as an empty string. The title is
 * rendered up to `maxLength` characters and no further: values after the limit are not even read.
 */
export function compileTemplate(
  template: string,
  maxLength: number = MAX_TITLE_LENGTH,
): (event: unknown) => string {
  const parts: TemplatePart[] = [];
  let placeholders = 0;
  let text = '';
  let index = 0;
  while (index < template.length) {
    const char = template.charAt(index);
    const next = template.charAt(index + 1);
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      text += char;
      index += 2;
      continue;
    }
    if (char === '}')
      throw new TemplateSyntaxError('"}" without "{" (write "}}" for a literal brace)', index);
    if (char !== '{') {
      text += char;
      index += 1;
      continue;
    }
    const close = template.indexOf('}', index);
    if (close < 0)
      throw new TemplateSyntaxError('"{" is not closed by "}" (write "{{" for a literal brace)', index);
    const path = template.slice(index + 1, close).trim();
    if (++placeholders > MAX_TEMPLATE_PLACEHOLDERS)
      throw new TemplateSyntaxError(
        `a title may hold at most ${MAX_TEMPLATE_PLACEHOLDERS} placeholders`,
        index,
        'too_many',
      );
    try {
      if (text) parts.push(text);
      text = '';
      parts.push(compileGetter(parseKeyPath(path)));
    } catch (error) {
      const reason = error instanceof PathSyntaxError ? error.message : String(error);
      throw new TemplateSyntaxError(`{${path}}: ${reason}`, index);
    }
    index = close + 1;
  }
  if (text) parts.push(text);
  return (event) => {
    const out = new BoundedText(maxLength);
    for (const part of parts) {
      if (out.full) break;
      if (typeof part === 'string') out.append(part);
      else out.appendValue(part(event));
    }
    return out.toString();
  };
}

export type OutputsBuilder = (event: unknown) => RuleOutputs;

export function compileOutputs(rule: RuleDefinition): OutputsBuilder {
  const fallbackTitle = truncate(rule.displayName ?? rule.ruleId, MAX_TITLE_LENGTH);
  const title = rule.alertTitle !== undefined ? compileTemplate(rule.alertTitle) : () => fallbackTitle;
  const context = rule.alertContext.map((field) => ({ name: field.keyName, get: keyGetter(field.key) }));
  const groupBy = rule.groupBy.map(keyGetter);
  const severities: { changeTo: Severity; when: EventPredicate }[] = rule.dynamicSeverities.map((item) => ({
    changeTo: item.changeTo,
    when: compileMatchList(item.conditions),
  }));
  const defaultDedup = truncate(`defaultDedupString:${rule.ruleId}`, MAX_DEDUP_LENGTH);

  return (event) => {
    const alertTitle = title(event) || fallbackTitle;
    let dedup: string;
    if (groupBy.length > 0) {
      const key = new BoundedText(MAX_DEDUP_LENGTH);
      groupBy.forEach((get, index) => {
        if (index > 0) key.append(':');
        key.appendValue(get(event));
      });
      dedup = key.toString();
    } else dedup = rule.alertTitle !== undefined ? alertTitle : defaultDedup;
    const alertContext = boundedAlertContext(context, event);
    let severity = rule.severity;
    for (const candidate of severities) {
      if (candidate.when(event)) {
        severity = candidate.changeTo;
        break;
      }
    }
    return {
      title: alertTitle,
      dedup: dedup || defaultDedup,
      severity,
      alertContext,
    };
  };
}

/**
 * The output fields of one hit, within MAX_ALERT_CONTEXT_CHARS: each value is kept as it is while the
 * JSON of all of them fits, and a value that does not fit becomes the start of its JSON text (the room
 * left, possibly nothing). Values that fit are the event's own, not copies.
 */
function boundedAlertContext(
  fields: readonly { name: string; get: ValueGetter }[],
  event: unknown,
): JsonObject {
  const alertContext: JsonObject = {};
  let room = MAX_ALERT_CONTEXT_CHARS;
  for (const field of fields) {
    const value = field.get(event) ?? null;
    // Strings, numbers and the like are measured without writing them; containers only up to the room.
    const size =
      typeof value === 'string'
        ? value.length + 2
        : typeof value === 'object' && value !== null
          ? jsonPrefix(value, room + 1).length
          : displayValue(value).length;
    if (size <= room) {
      setOwn(alertContext, field.name, value);
      room -= size;
    } else {
      const start = typeof value === 'string' ? truncate(value, room) : detached(jsonPrefix(value, room));
      setOwn(alertContext, field.name, start);
      room = 0;
    }
  }
  return alertContext;
}
