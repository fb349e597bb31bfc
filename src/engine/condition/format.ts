// The `condition` rule format: condition lines (see index.ts) in a Panther rule file, parsed once when
// the file is read. What the rule index needs is read off the same syntax trees.
import type { CompiledDetection, KeyRequirement, RuleFormat } from '../formats/rule-format.js';
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
 * Lines are ANDed; `eq` a string and `in` a list of strings on a plain key give a requirement, and so
 * do `ne` and `not in` under a `not` (`not (a ne "x" or b ne "y")` is `a eq "x" and b eq "y"`).
 */
function requirementsOf(node: ConditionNode, negated = false): KeyRequirement[] {
  if (node.kind === 'not') return requirementsOf(node.operand, !negated);
  // Under a not, `and` reads as `or` and `or` as `and` (De Morgan): only a conjunction gives requirements.
  if (node.kind === 'and' || node.kind === 'or') {
    return (node.kind === 'and') !== negated
      ? node.operands.flatMap((operand) => requirementsOf(operand, negated))
      : [];
  }
  if (!/^[A-Za-z_$][\w$]*$/.test(node.path) || !('value' in node)) return [];
  const operator = negated ? NEGATIONS[node.operator] : node.operator;
  const value: unknown = node.value;
  if (operator === 'eq' && typeof value === 'string') return [{ key: node.path, values: new Set([value]) }];
  if (operator === 'in' && Array.isArray(value)) {
    const values = value.every((item) => typeof item === 'string') ? new Set(value) : undefined;
    return values ? [{ key: node.path, values }] : [];
  }
  return [];
}

/** What a comparison under `not` amounts to, for the two forms that give requirements. */
const NEGATIONS: Partial<Record<string, string>> = { ne: 'eq', 'not in': 'in' };
