// The `panther` rule format: Panther's simple detections, a list of match expressions in a Panther rule
// file. Compiled once into closures; what the rule index needs is read off the checked expressions.
import { requirementOfBranches, requirementPlace } from '../formats/requirements.js';
import type { CompiledDetection, Requirement, RuleFormat, TextRequirement } from '../formats/rule-format.js';
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

function strings(values: readonly unknown[]): string[] | undefined {
  return values.every((value) => typeof value === 'string') ? (values as string[]) : undefined;
}

/** Text conditions on a string value, and what they require. */
const TEXT_CONDITIONS: Readonly<Record<string, Omit<TextRequirement, 'key' | 'path' | 'patterns'>>> = {
  IEquals: { text: 'equals', ignoreCase: true },
  StartsWith: { text: 'prefix', ignoreCase: false },
  IStartsWith: { text: 'prefix', ignoreCase: true },
  EndsWith: { text: 'suffix', ignoreCase: false },
  IEndsWith: { text: 'suffix', ignoreCase: true },
  // Python's `in` on a list or a dict asks for an element or a key: those pass untested.
  Contains: { text: 'substring', ignoreCase: false, listsAndObjectsPass: true },
  Has: { text: 'substring', ignoreCase: false, listsAndObjectsPass: true },
  IContains: { text: 'substring', ignoreCase: true, listsAndObjectsPass: true },
};

/** Conditions that never hold on a missing key (Python's None), whatever else they test. */
const NEED_A_VALUE = new Set([
  'Exists',
  'IsNotNull',
  'IsNotNullOrEmpty',
  'IsGreaterThan',
  'IsGreaterThanOrEquals',
  'IsLessThan',
  'IsLessThanOrEquals',
]);

/**
 * The list is an implicit All; Any and OnlyOne require one of what their branches require. A key
 * condition on a path of keys requires what it tests: Equals and IsIn strings the values, the text
 * conditions their text, IsIPAddressInCIDR the networks, the others that hold only on a value its
 * presence. Negative conditions and None require nothing certain.
 */
function requirementsOf(expression: MatchExpression): Requirement[] {
  switch (expression.type) {
    case 'All':
      return expression.expressions.flatMap(requirementsOf);
    case 'Any':
    case 'OnlyOne':
      return requirementOfBranches(expression.expressions.map(requirementsOf));
    case 'KeyValue': {
      const place = requirementPlace(expression.key.segments);
      const { condition, value } = expression;
      if (place === undefined) return [];
      if (condition === 'Equals')
        return typeof value === 'string' ? [{ ...place, values: new Set([value]) }] : [];
      const text = TEXT_CONDITIONS[condition];
      if (text !== undefined) {
        if (typeof value !== 'string') return [];
        return [{ ...place, ...text, patterns: [text.ignoreCase ? value.toLowerCase() : value] }];
      }
      if (condition === 'IsIPAddressInCIDR' && value !== undefined)
        return [{ ...place, networks: [String(value)] }];
      return NEED_A_VALUE.has(condition) ? [{ ...place, present: true }] : [];
    }
    case 'KeyValues': {
      const place = requirementPlace(expression.key.segments);
      if (place === undefined) return [];
      if (expression.condition === 'IsIn') {
        const values = strings(expression.values);
        return values !== undefined ? [{ ...place, values: new Set(values) }] : [];
      }
      if (expression.condition === 'IsIPAddressInCIDR')
        return [{ ...place, networks: expression.values.map((item) => String(item)) }];
      return [];
    }
    default:
      return [];
  }
}
