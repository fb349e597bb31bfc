// Turns checked match expressions into closures, once per rule: evaluation never looks at the YAML again.
import { compileGetter, parseKeyPath, WILDCARD, type ValueGetter } from '../paths.js';
import type { KeySpecifier, MatchExpression, ScalarValue } from '../rule.js';
import { getOwn, isPlainObject } from '../values.js';
import { sharedPredicate } from '../shared-predicates.js';
import { buildValuePredicate } from './conditions.js';

export type EventPredicate = (event: unknown) => boolean;

export interface CompileOptions {
  /**
   * InlineFilters semantics: a filter on a key the event does not have lets the event through
   * (Panther's inline filters only filter on what is there).
   */
  missingPasses?: boolean;
}

/** A list of match expressions holds when every one holds (Panther's top-level list is an AND). */
export function compileMatchList(
  expressions: readonly MatchExpression[],
  options: CompileOptions = {},
): EventPredicate {
  const compiled = expressions.map((expression) => compileMatchExpression(expression, options));
  if (compiled.length === 1) return compiled[0] as EventPredicate;
  return (event) => {
    for (const predicate of compiled) if (!predicate(event)) return false;
    return true;
  };
}

/** Panther's key lookup: exact first, then ignoring case, as Panther's case-insensitive event dictionaries do. */
export function keyGetter(key: KeySpecifier): ValueGetter {
  return compileGetter(key.segments, { caseInsensitive: true });
}

function hasWildcard(key: KeySpecifier): boolean {
  return key.segments.includes(WILDCARD);
}

type KeyCondition = Extract<MatchExpression, { type: 'KeyValue' | 'KeyValues' }>;

function compileKeyCondition(expression: KeyCondition, missingPasses: boolean): EventPredicate {
  const get = keyGetter(expression.key);
  const values = expression.type === 'KeyValues' ? expression.values : undefined;
  const value = expression.type === 'KeyValue' ? expression.value : undefined;
  const test = buildValuePredicate(expression.condition, value, values, hasWildcard(expression.key));
  if (missingPasses)
    return (event) => {
      const actual = get(event);
      return actual === undefined || test(actual);
    };
  return (event) => test(get(event));
}

/** What a key condition tests, written out: equal texts test the same, and may share one evaluation. */
function keyConditionText(expression: KeyCondition, missingPasses: boolean): string {
  const segments = expression.key.segments.map((segment) =>
    segment === WILDCARD ? { wildcard: true } : segment,
  );
  const operand =
    expression.type === 'KeyValues' ? { values: expression.values } : { value: expression.value };
  return `panther\u0000${String(missingPasses)}\u0000${expression.condition}\u0000${JSON.stringify([segments, operand])}`;
}

function countMatches(predicates: readonly EventPredicate[], event: unknown, stopAt: number): number {
  let count = 0;
  for (const predicate of predicates) {
    if (predicate(event)) {
      count += 1;
      if (count >= stopAt) break;
    }
  }
  return count;
}

export function compileMatchExpression(
  expression: MatchExpression,
  options: CompileOptions = {},
): EventPredicate {
  const compileChild = (child: MatchExpression) => compileMatchExpression(child, options);
  const missingPasses = options.missingPasses ?? false;
  switch (expression.type) {
    case 'All':
      return compileMatchList(expression.expressions, options);
    case 'Any': {
      const children = expression.expressions.map(compileChild);
      return (event) => countMatches(children, event, 1) > 0;
    }
    case 'OnlyOne': {
      const children = expression.expressions.map(compileChild);
      return (event) => countMatches(children, event, 2) === 1;
    }
    case 'None': {
      const children = expression.expressions.map(compileChild);
      return (event) => countMatches(children, event, 1) === 0;
    }
    case 'Absolute': {
      const value = expression.value;
      return () => value;
    }
    case 'KeyValue':
    case 'KeyValues':
      return sharedPredicate(keyConditionText(expression, missingPasses), () =>
        compileKeyCondition(expression, missingPasses),
      );
    case 'Enrichment': {
      const get = enrichmentGetter(expression.table, expression.selector, expression.fieldPath);
      const test = buildValuePredicate(expression.condition, expression.value, expression.values);
      if (missingPasses)
        return (event) => {
          const actual = get(event);
          return actual === undefined || test(actual);
        };
      return (event) => test(get(event));
    }
    case 'MultiKey': {
      const [left, right] = expression.keys.map(keyGetter) as [ValueGetter, ValueGetter];
      const condition = expression.condition;
      // Both keys must be present: comparing a missing value with anything says nothing about the event.
      return (event) => {
        const a = left(event);
        const b = right(event);
        if (a === undefined || a === null || b === undefined || b === null) return false;
        return buildValuePredicate(condition, b as ScalarValue, undefined)(a);
      };
    }
    case 'ListComprehension': {
      const get = keyGetter(expression.key);
      const element = compileMatchList(expression.expressions);
      const list = (event: unknown): readonly unknown[] => {
        const value = get(event);
        return Array.isArray(value) ? value : [];
      };
      switch (expression.condition) {
        case 'AnyElement':
          return (event) => list(event).some(element);
        case 'AllElements':
          // Python's all() of nothing is True, but "every element matches" on no list at all is never
          // what a detection means: an empty or missing list does not match.
          return (event) => {
            const items = list(event);
            return items.length > 0 && items.every(element);
          };
        case 'NoElement':
          return (event) => !list(event).some(element);
        default:
          return (event) => {
            let count = 0;
            for (const item of list(event)) if (element(item) && ++count > 1) return false;
            return count === 1;
          };
      }
    }
  }
}

/** Lookup-table enrichment: `p_enrichment[Table][Selector]` then `FieldPath` inside the matched row. */
function enrichmentGetter(table: string, selector: string, fieldPath: string): ValueGetter {
  const field = compileGetter(parseKeyPath(fieldPath), { caseInsensitive: true });
  return (event) => {
    if (!isPlainObject(event)) return undefined;
    const enrichment = getOwn(event, 'p_enrichment');
    if (!isPlainObject(enrichment)) return undefined;
    const rows = getOwn(enrichment, table);
    if (!isPlainObject(rows)) return undefined;
    const row = getOwn(rows, selector);
    return row === undefined ? undefined : field(row);
  };
}
