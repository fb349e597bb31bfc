// What a hit carries besides "it matched": title, dedup key, severity and the output fields
// (Panther's AlertContext), each computed from the (normalised) event.
import { compileMatchList, keyGetter, type EventPredicate } from './panther/compile.js';
import { parseKeyPath, compileGetter, PathSyntaxError, type ValueGetter } from './paths.js';
import type { RuleDefinition, Severity } from './rule.js';
import { displayValue, setOwn, truncate, type JsonObject } from './values.js';

/** Titles and dedup keys are cut to this many characters. */
export const MAX_TITLE_LENGTH = 1000;
export const MAX_DEDUP_LENGTH = 1000;

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
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

type TemplatePart = string | ValueGetter;

/**
 * `AlertTitle` templates: `{path}` inserts the event's value at that key path (dots and `[n]`),
 * `{{` and `}}` write a literal brace. A missing value is written as an empty string.
 */
export function compileTemplate(template: string): (event: unknown) => string {
  const parts: TemplatePart[] = [];
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
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : displayValue(part(event));
    return out;
  };
}

export type OutputsBuilder = (event: unknown) => RuleOutputs;

export function compileOutputs(rule: RuleDefinition): OutputsBuilder {
  const fallbackTitle = rule.displayName ?? rule.ruleId;
  const title = rule.alertTitle !== undefined ? compileTemplate(rule.alertTitle) : () => fallbackTitle;
  const context = rule.alertContext.map((field) => ({ name: field.keyName, get: keyGetter(field.key) }));
  const groupBy = rule.groupBy.map(keyGetter);
  const severities: { changeTo: Severity; when: EventPredicate }[] = rule.dynamicSeverities.map((item) => ({
    changeTo: item.changeTo,
    when: compileMatchList(item.conditions),
  }));
  const defaultDedup = `defaultDedupString:${rule.ruleId}`;

  return (event) => {
    const alertTitle = truncate(title(event) || fallbackTitle, MAX_TITLE_LENGTH);
    let dedup: string;
    if (groupBy.length > 0) dedup = groupBy.map((get) => displayValue(get(event))).join(':');
    else dedup = rule.alertTitle !== undefined ? alertTitle : defaultDedup;
    const alertContext: JsonObject = {};
    for (const field of context) setOwn(alertContext, field.name, field.get(event) ?? null);
    let severity = rule.severity;
    for (const candidate of severities) {
      if (candidate.when(event)) {
        severity = candidate.changeTo;
        break;
      }
    }
    return {
      title: alertTitle,
      dedup: truncate(dedup || defaultDedup, MAX_DEDUP_LENGTH),
      severity,
      alertContext,
    };
  };
}
