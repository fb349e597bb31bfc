// The `condition` rule format: condition lines (see index.ts) in a Panther rule file, parsed once when
// the file is read. What the rule index needs is read off the same syntax trees.
import { requirementOfBranches, requirementPlace } from '../formats/requirements.js';
import type { CompiledDetection, Requirement, RuleFormat } from '../formats/rule-format.js';
import { pantherRuleReader } from '../panther/rule-file.js';
import { parseKeyPath } from '../paths.js';
import type { ConditionLinesDetection, Detection } from '../rule.js';
import type { ConditionNode } from './ast.js';
import { allOf, compileConditionNode } from './compile.js';

export const conditionLinesFormat: RuleFormat = {
  name: 'condition',
  reader: pantherRuleReader,
  compile(definition): CompiledDetection {
    const { nodes } = asConditionLinesDetection(definition.detection);
    return {
      matches: allOf(nodes.map(compileConditionNode)),
      requirements: nodes.flatMap((node) => requirementsOf(node)),
      readsNormalisedFields: nodes.some(readsNormalisedField),
      // Paths name keys exactly.
      keysIgnoreCase: false,
    };
  },
};

function asConditionLinesDetection(detection: Detection): ConditionLinesDetection {
  if (detection.language !== 'condition' || !('nodes' in detection))
    throw new Error(`a ${detection.language} detection is not condition lines`);
  return detection as ConditionLinesDetection;
}

function readsNormalisedField(node: ConditionNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.operands.some(readsNormalisedField);
    case 'not':
      return readsNormalisedField(node.operand);
    case 'comparison':
      return (
        isNormalisedPath(node.path) ||
        (node.operator === 'cross_field_compare' && isNormalisedPath(node.value))
      );
  }
}

/** The parser has checked every path. */
function isNormalisedPath(path: string): boolean {
  const [first] = parseKeyPath(path);
  return typeof first === 'string' && first.startsWith('p_');
}

/**
 * Lines are ANDed. A comparison on a path of object keys requires what it tests: `eq` a string and `in`
 * strings give the values, `startswith`/`endswith`/`contains` a string the text, and every comparison
 * that cannot hold on a missing field (`exists`, orderings, `matches`…) at least that the field is there.
 * Under a `not` each comparison reads as its opposite (`not (a ne "x")` is `a eq "x"`); an `or` (an
 * `and` under a `not`) requires one of what its branches require.
 */
function requirementsOf(node: ConditionNode, negated = false): Requirement[] {
  if (node.kind === 'not') return requirementsOf(node.operand, !negated);
  if (node.kind === 'and' || node.kind === 'or') {
    const branches = node.operands.map((operand) => requirementsOf(operand, negated));
    return (node.kind === 'and') !== negated ? branches.flat() : requirementOfBranches(branches);
  }
  const operator = negated ? NEGATIONS[node.operator] : node.operator;
  const place = placeOf(node.path);
  if (operator === undefined || place === undefined) return [];
  const value: unknown = 'value' in node ? node.value : undefined;
  switch (operator) {
    case 'eq':
      return typeof value === 'string' ? [{ ...place, values: new Set([value]) }] : [];
    case 'in':
      return Array.isArray(value) && value.every((item) => typeof item === 'string')
        ? [{ ...place, values: new Set(value) }]
        : [];
    case 'startswith':
    case 'endswith':
      return typeof value === 'string'
        ? [
            {
              ...place,
              text: operator === 'startswith' ? 'prefix' : 'suffix',
              patterns: [value],
              ignoreCase: false,
            },
          ]
        : [];
    case 'contains':
      // A list or an object holds an element or a key, not a substring: they pass untested.
      return typeof value === 'string'
        ? [{ ...place, text: 'substring', patterns: [value], ignoreCase: false, listsAndObjectsPass: true }]
        : [];
    case 'exists':
    case 'is_not_null':
    case 'matches':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'cross_field_compare':
      return [{ ...place, present: true }];
    default:
      return [];
  }
}

/** A path of object keys; the parser has checked it. */
function placeOf(path: string): { key: string; path?: string[] } | undefined {
  return requirementPlace(parseKeyPath(path, { allowWildcard: false }));
}

/** What a comparison under `not` amounts to, where that requires something. */
const NEGATIONS: Partial<Record<string, string>> = {
  ne: 'eq',
  'not in': 'in',
  'not contains': 'contains',
  'not exists': 'exists',
  is_null: 'is_not_null',
};
