// Checks Panther's simple-detection match expressions (the `Detection`, `InlineFilters`,
// `DynamicSeverities.Conditions` and list-comprehension `Expressions` lists) and turns them into typed
// expressions. Every problem names its key; nothing here evaluates anything.
import { parseKeyPath, PathSyntaxError, type PathSegment } from '../paths.js';
import type { KeySpecifier, MatchExpression, ScalarValue } from '../rule.js';
import { joinPath } from '../source-map.js';
import { isPlainObject, type JsonObject } from '../values.js';
import { ABSOLUTE_CONDITIONS, conditionSpec, LIST_CONDITIONS, MULTI_KEY_CONDITIONS } from './conditions.js';
import { describeType, type Checker } from './checker.js';
import { addressSet, CidrSyntaxError } from '../ip.js';

const KEY_KINDS = ['Key', 'DeepKey', 'KeyPath'] as const;
const COMBINATORS = ['All', 'Any', 'OnlyOne', 'None'] as const;
/** InlineFilters allow only part of the grammar (Panther's schema). */
const INLINE_FILTER_COMBINATORS = new Set(['All', 'Any']);

export interface MatchGrammar {
  /** `InlineFilters`: no OnlyOne/None, no list comprehensions, no two-key comparisons. */
  inlineFilter?: boolean;
}

export function checkMatchList(
  value: unknown,
  path: string,
  checker: Checker,
  grammar: MatchGrammar = {},
): MatchExpression[] {
  if (!Array.isArray(value)) {
    checker.error(
      path,
      'wrong_type',
      `${path} must be a list of match expressions, not ${describeType(value)}`,
    );
    return [];
  }
  // Panther writes "no inline filter" as `All: []`: a group that holds for every event.
  if (value.length === 0 && grammar.inlineFilter && path.endsWith('.All')) return [];
  if (value.length === 0) {
    checker.error(path, 'invalid_value', `${path} must hold at least one match expression`);
    return [];
  }
  const expressions: MatchExpression[] = [];
  value.forEach((item: unknown, index) => {
    const expression = checkMatchExpression(item, joinPath(path, index), checker, grammar);
    if (expression) expressions.push(expression);
  });
  return expressions;
}

/** A `Key`, `DeepKey` or `KeyPath` found on `node`; `undefined` (with an error) when malformed. */
export function checkKeySpecifier(
  node: JsonObject,
  path: string,
  checker: Checker,
): KeySpecifier | undefined | null {
  const present = KEY_KINDS.filter((kind) => Object.prototype.hasOwnProperty.call(node, kind));
  if (present.length === 0) return null;
  if (present.length > 1) {
    checker.error(
      joinPath(path, present[1] ?? ''),
      'conflicting_keys',
      `use only one of ${present.join(', ')}`,
    );
    return undefined;
  }
  const kind = present[0] as (typeof KEY_KINDS)[number];
  const raw = node[kind];
  const keyPath = joinPath(path, kind);
  if (kind === 'Key') {
    if (typeof raw !== 'string' || raw === '') {
      checker.error(keyPath, 'wrong_type', `Key must be a non-empty string, not ${describeType(raw)}`);
      return undefined;
    }
    return { kind, text: raw, segments: [raw] };
  }
  if (kind === 'DeepKey') {
    const valid =
      Array.isArray(raw) &&
      raw.length > 0 &&
      raw.every((part) => typeof part === 'string' || Number.isInteger(part));
    if (!valid) {
      checker.error(
        keyPath,
        'wrong_type',
        `DeepKey must be a list of keys and list indexes, not ${describeType(raw)}`,
      );
      return undefined;
    }
    const segments = raw as PathSegment[];
    return { kind, text: segments.map(String).join('.'), segments };
  }
  if (typeof raw !== 'string') {
    checker.error(
      keyPath,
      'wrong_type',
      `KeyPath must be a string such as a.b[0].c, not ${describeType(raw)}`,
    );
    return undefined;
  }
  try {
    return { kind, text: raw, segments: parseKeyPath(raw) };
  } catch (error) {
    const reason = error instanceof PathSyntaxError ? error.message : String(error);
    checker.error(keyPath, 'invalid_key_path', `KeyPath ${JSON.stringify(raw)}: ${reason}`);
    return undefined;
  }
}

function isScalar(value: unknown): value is ScalarValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function rejectExtraKeys(
  node: JsonObject,
  allowed: readonly string[],
  path: string,
  checker: Checker,
  what: string,
): boolean {
  let clean = true;
  for (const key of Object.keys(node)) {
    if (!allowed.includes(key)) {
      checker.error(
        joinPath(path, key),
        'unknown_key',
        `unknown key ${JSON.stringify(key)} in ${what}; allowed: ${allowed.join(', ')}`,
      );
      clean = false;
    }
  }
  return clean;
}

function checkMatchExpression(
  node: unknown,
  path: string,
  checker: Checker,
  grammar: MatchGrammar,
): MatchExpression | undefined {
  if (!isPlainObject(node)) {
    checker.error(path, 'wrong_type', `a match expression must be a mapping, not ${describeType(node)}`);
    return undefined;
  }
  const combinator = COMBINATORS.find((name) => Object.prototype.hasOwnProperty.call(node, name));
  if (combinator) {
    if (grammar.inlineFilter && !INLINE_FILTER_COMBINATORS.has(combinator)) {
      checker.error(
        joinPath(path, combinator),
        'not_allowed',
        `${combinator} is not allowed in InlineFilters (only All and Any)`,
      );
      return undefined;
    }
    if (!rejectExtraKeys(node, [combinator], path, checker, `a ${combinator} combinator`)) return undefined;
    const expressions = checkMatchList(node[combinator], joinPath(path, combinator), checker, grammar);
    return { type: combinator, expressions };
  }

  const condition = node.Condition;
  if (condition === undefined) {
    checker.error(path, 'missing_key', 'a match expression needs a Condition (or All/Any/OnlyOne/None)');
    return undefined;
  }
  if (typeof condition !== 'string') {
    checker.error(
      joinPath(path, 'Condition'),
      'wrong_type',
      `Condition must be a string, not ${describeType(condition)}`,
    );
    return undefined;
  }
  const conditionPath = joinPath(path, 'Condition');

  if (ABSOLUTE_CONDITIONS.has(condition)) {
    if (!rejectExtraKeys(node, ['Condition'], path, checker, `an ${condition} expression`)) return undefined;
    return { type: 'Absolute', value: condition === 'AlwaysTrue' };
  }

  if (LIST_CONDITIONS.has(condition)) {
    if (grammar.inlineFilter) {
      checker.error(conditionPath, 'not_allowed', `${condition} is not allowed in InlineFilters`);
      return undefined;
    }
    const key = checkKeySpecifier(node, path, checker);
    if (key === null)
      checker.error(path, 'missing_key', `${condition} needs a Key, DeepKey or KeyPath naming the list`);
    const allowed = ['Condition', 'Expressions', key?.kind ?? 'Key'];
    const clean = rejectExtraKeys(node, allowed, path, checker, `a ${condition} expression`);
    if (!Object.prototype.hasOwnProperty.call(node, 'Expressions')) {
      checker.error(
        path,
        'missing_key',
        `${condition} needs Expressions: the match expressions each element is tested with`,
      );
      return undefined;
    }
    const expressions = checkMatchList(node.Expressions, joinPath(path, 'Expressions'), checker, grammar);
    if (!key || !clean) return undefined;
    return { type: 'ListComprehension', key, condition, expressions };
  }

  const spec = conditionSpec(condition);
  if (!spec) {
    checker.error(conditionPath, 'unknown_condition', `unknown Condition ${JSON.stringify(condition)}`);
    return undefined;
  }

  if (Object.prototype.hasOwnProperty.call(node, 'Enrichment')) {
    return checkEnrichment(node, path, condition, checker);
  }

  const key = checkKeySpecifier(node, path, checker);
  if (key === undefined) {
    // Still name every other wrong key of this expression, not only the first problem.
    rejectExtraKeys(
      node,
      ['Condition', ...KEY_KINDS, 'Value', 'Values'],
      path,
      checker,
      'a match expression',
    );
    return undefined;
  }
  if (key === null) {
    // No key of its own: a two-key comparison whose Values are two key specifiers.
    return checkMultiKey(node, path, condition, checker, grammar);
  }
  if (!rejectExtraKeys(node, ['Condition', key.kind, 'Value', 'Values'], path, checker, 'a match expression'))
    return undefined;
  const operand = checkOperand(node, path, condition, checker);
  if (!operand) return undefined;
  if (operand.values !== undefined) return { type: 'KeyValues', key, condition, values: operand.values };
  return operand.value === undefined
    ? { type: 'KeyValue', key, condition }
    : { type: 'KeyValue', key, condition, value: operand.value };
}

/** Checks `Value`/`Values` against what the condition takes. */
function checkOperand(
  node: JsonObject,
  path: string,
  condition: string,
  checker: Checker,
): { value?: ScalarValue; values?: ScalarValue[] } | undefined {
  const spec = conditionSpec(condition);
  if (!spec) return undefined;
  const hasValue = Object.prototype.hasOwnProperty.call(node, 'Value');
  const hasValues = Object.prototype.hasOwnProperty.call(node, 'Values');
  const valuePath = joinPath(path, 'Value');
  const valuesPath = joinPath(path, 'Values');
  if (hasValue && hasValues) {
    checker.error(valuesPath, 'conflicting_keys', 'use Value or Values, not both');
    return undefined;
  }
  const needs = (what: string, at: string) => {
    checker.error(at, 'invalid_value', `${condition} ${what}`);
    return undefined;
  };
  let value: ScalarValue | undefined;
  let values: ScalarValue[] | undefined;
  if (hasValue) {
    if (!isScalar(node.Value)) {
      checker.error(
        valuePath,
        'wrong_type',
        `Value must be a string, number or boolean, not ${describeType(node.Value)}`,
      );
      return undefined;
    }
    value = node.Value;
  }
  if (hasValues) {
    const raw = node.Values;
    if (!Array.isArray(raw) || !raw.every(isScalar)) {
      checker.error(
        valuesPath,
        'wrong_type',
        `Values must be a list of strings, numbers or booleans, not ${describeType(raw)}`,
      );
      return undefined;
    }
    values = raw;
  }
  switch (spec.operand) {
    case 'value':
      if (!hasValue)
        return needs(
          hasValues ? 'takes one Value, not a list of Values' : 'needs a Value',
          hasValues ? valuesPath : path,
        );
      break;
    case 'values':
      if (!hasValues)
        return needs(
          hasValue ? 'takes a list of Values, not one Value' : 'needs a list of Values',
          hasValue ? valuePath : path,
        );
      break;
    case 'value-or-values':
      if (!hasValue && !hasValues) return needs('needs a Value or Values (CIDR blocks)', path);
      try {
        addressSet((values ?? [value]).map(String));
      } catch (error) {
        if (error instanceof CidrSyntaxError)
          return needs(`: ${error.message}`, hasValue ? valuePath : valuesPath);
        throw error;
      }
      break;
    case 'none':
      if (hasValue || hasValues) return needs('takes no Value', hasValue ? valuePath : valuesPath);
      break;
    case 'flag':
      if (hasValues) return needs('takes no Values', valuesPath);
      if (hasValue && typeof value !== 'boolean')
        return needs('takes only true or false as Value', valuePath);
      break;
  }
  return { value, values };
}

function checkMultiKey(
  node: JsonObject,
  path: string,
  condition: string,
  checker: Checker,
  grammar: MatchGrammar,
): MatchExpression | undefined {
  const raw = node.Values;
  const valuesPath = joinPath(path, 'Values');
  const looksLikeKeys = Array.isArray(raw) && raw.length > 0 && raw.every(isPlainObject);
  if (!looksLikeKeys) {
    checker.error(
      path,
      'missing_key',
      'a match expression needs a Key, DeepKey or KeyPath (or Values with two key specifiers)',
    );
    return undefined;
  }
  if (grammar.inlineFilter) {
    checker.error(valuesPath, 'not_allowed', 'two-key comparisons are not allowed in InlineFilters');
    return undefined;
  }
  if (!rejectExtraKeys(node, ['Condition', 'Values'], path, checker, 'a two-key comparison'))
    return undefined;
  if (raw.length !== 2) {
    checker.error(
      valuesPath,
      'invalid_value',
      `a two-key comparison compares exactly two keys; Values holds ${raw.length}`,
    );
    return undefined;
  }
  if (!MULTI_KEY_CONDITIONS.has(condition)) {
    checker.error(joinPath(path, 'Condition'), 'invalid_value', `${condition} cannot compare two keys`);
    return undefined;
  }
  const keys: KeySpecifier[] = [];
  raw.forEach((item, index) => {
    const itemPath = joinPath(valuesPath, index);
    const key = checkKeySpecifier(item, itemPath, checker);
    if (key === null)
      checker.error(itemPath, 'missing_key', 'each of Values must be a Key, DeepKey or KeyPath');
    if (!key) return;
    if (rejectExtraKeys(item, [key.kind], itemPath, checker, 'a key specifier')) keys.push(key);
  });
  if (keys.length !== 2) return undefined;
  return { type: 'MultiKey', keys: [keys[0] as KeySpecifier, keys[1] as KeySpecifier], condition };
}

function checkEnrichment(
  node: JsonObject,
  path: string,
  condition: string,
  checker: Checker,
): MatchExpression | undefined {
  if (
    !rejectExtraKeys(
      node,
      ['Enrichment', 'Condition', 'Value', 'Values'],
      path,
      checker,
      'an enrichment match expression',
    )
  ) {
    return undefined;
  }
  const enrichmentPath = joinPath(path, 'Enrichment');
  const enrichment = node.Enrichment;
  if (!isPlainObject(enrichment)) {
    checker.error(
      enrichmentPath,
      'wrong_type',
      `Enrichment must be a mapping with Table, Selector and FieldPath`,
    );
    return undefined;
  }
  const fields = ['Table', 'Selector', 'FieldPath'] as const;
  if (!rejectExtraKeys(enrichment, fields, enrichmentPath, checker, 'Enrichment')) return undefined;
  const text: Partial<Record<(typeof fields)[number], string>> = {};
  for (const field of fields) {
    const value = enrichment[field];
    if (typeof value !== 'string' || value === '') {
      checker.error(
        joinPath(enrichmentPath, field),
        value === undefined ? 'missing_key' : 'wrong_type',
        `Enrichment needs ${field} as a non-empty string`,
      );
      return undefined;
    }
    text[field] = value;
  }
  try {
    parseKeyPath(text.FieldPath ?? '');
  } catch (error) {
    const reason = error instanceof PathSyntaxError ? error.message : String(error);
    checker.error(
      joinPath(enrichmentPath, 'FieldPath'),
      'invalid_key_path',
      `FieldPath ${JSON.stringify(text.FieldPath)}: ${reason}`,
    );
    return undefined;
  }
  const operand = checkOperand(node, path, condition, checker);
  if (!operand) return undefined;
  return {
    type: 'Enrichment',
    table: text.Table ?? '',
    selector: text.Selector ?? '',
    fieldPath: text.FieldPath ?? '',
    condition,
    ...(operand.value !== undefined ? { value: operand.value } : {}),
    ...(operand.values !== undefined ? { values: operand.values } : {}),
  };
}
