// The `panther` rule format: Panther's simple detections, a list of match expressions in a Panther rule
// file. Compiled once into closures; what the rule index needs is read off the checked expressions.
import type { CompiledDetection, KeyRequirement, RuleFormat } from '../formats/rule-format.js';
import type { Detection, KeySpecifier, MatchExpression, MatchExpressionDetection } from '../rule.js';
import { compileMatchList } from './compile.js';
import { pantherRuleReader } from './rule-file.js';

export const matchExpressionFormat: RuleFormat = {
  name: 'panther',
  reader: pantherRuleReader,
  compile(definition): CompiledDetection {
    const { expressions } = asMatchExpressionDetection(definition.detection);
    return {
      matches: compileMatchList(expressions),
      requirements: expressions.flatMap(requirementsOf),
      readsNormalisedFields: readsNormalisedFields(expressions),
      // Panther's event dictionaries find a key under any case.
      keysIgnoreCase: true,
    };
  },
};

function asMatchExpressionDetection(detection: Detection): MatchExpressionDetection {
  if (detection.language !== 'panther' || !('expressions' in detection))
    throw new Error(`a ${detection.language} detection is not Panther match expressions`);
  return detection as MatchExpressionDetection;
}

/**
 * Whether any expression reads a `p_` field (under any case, as Panther's keys match), or a lookup
 * table, which lives under `p_enrichment`.
 */
export function readsNormalisedFields(expressions: readonly MatchExpression[]): boolean {
  return expressions.some(readsNormalisedField);
}

function readsNormalisedField(expression: MatchExpression): boolean {
  switch (expression.type) {
    case 'All':
    case 'Any':
    case 'OnlyOne':
    case 'None':
      return expression.expressions.some(readsNormalisedField);
    case 'Absolute':
      return false;
    case 'Enrichment':
      return true;
    case 'KeyValue':
    case 'KeyValues':
      return isNormalisedKey(expression.key);
    case 'MultiKey':
      return expression.keys.some(isNormalisedKey);
    case 'ListComprehension':
      // The element expressions read list elements, but a list under a `p_` key is itself normalised.
      return isNormalisedKey(expression.key) || expression.expressions.some(readsNormalisedField);
  }
}

function isNormalisedKey(key: KeySpecifier): boolean {
  const [first] = key.segments;
  return typeof first === 'string' && /^p_/i.test(first);
}

function topLevelKey(key: KeySpecifier): string | undefined {
  const [only, ...rest] = key.segments;
  return rest.length === 0 && typeof only === 'string' && only !== '*' ? only : undefined;
}

function strings(values: readonly unknown[]): Set<string> | undefined {
  return values.every((value) => typeof value === 'string') ? new Set(values as string[]) : undefined;
}

/** The list is an implicit All; Equals and IsIn on a top-level key give a requirement. */
function requirementsOf(expression: MatchExpression): KeyRequirement[] {
  switch (expression.type) {
    case 'All':
      return expression.expressions.flatMap(requirementsOf);
    case 'KeyValue': {
      const key = topLevelKey(expression.key);
      if (key === undefined || expression.condition !== 'Equals' || typeof expression.value !== 'string')
        return [];
      return [{ key, values: new Set([expression.value]) }];
    }
    case 'KeyValues': {
      const key = topLevelKey(expression.key);
      const values = expression.condition === 'IsIn' ? strings(expression.values) : undefined;
      return key !== undefined && values !== undefined ? [{ key, values }] : [];
    }
    default:
      return [];
  }
}
