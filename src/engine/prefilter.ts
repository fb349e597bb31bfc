// What a rule needs of an event before it can match: a top-level key whose value must be one of a few
// strings (`eventName` is one of [...]). Rule sets use it to evaluate only the rules that can match an
// event, instead of all of them; the rules themselves still decide, so a requirement only ever needs to
// be necessary, never sufficient.
import { parseConditionLine } from './condition/parser.js';
import type { ConditionNode } from './condition/ast.js';
import type { KeySpecifier, MatchExpression, RuleDefinition } from './rule.js';

export interface KeyRequirement {
  /** A top-level key of the event. */
  key: string;
  /** The event's value there must be one of these strings. */
  values: ReadonlySet<string>;
}

/**
 * Requirements that all hold whenever the rule's detection matches (none when nothing is certain). Not
 * on `p_` keys: an event whose normalisation waits has none of them yet when the index is consulted.
 */
export function keyRequirements(definition: RuleDefinition): KeyRequirement[] {
  const detection = definition.detection;
  let requirements: KeyRequirement[];
  try {
    requirements =
      detection.language === 'panther'
        ? detection.expressions.flatMap(fromMatchExpression)
        : detection.lines.flatMap((line, index) => fromConditionNode(parseConditionLine(line, index)));
  } catch {
    return []; // a rule that does not parse here is simply evaluated for every event
  }
  return requirements.filter((requirement) => !/^p_/i.test(requirement.key));
}

function topLevelKey(key: KeySpecifier): string | undefined {
  const [only, ...rest] = key.segments;
  return rest.length === 0 && typeof only === 'string' && only !== '*' ? only : undefined;
}

function strings(values: readonly unknown[]): Set<string> | undefined {
  return values.every((value) => typeof value === 'string') ? new Set(values as string[]) : undefined;
}

/** Panther's list is an implicit All; Equals and IsIn on a top-level key give a requirement. */
function fromMatchExpression(expression: MatchExpression): KeyRequirement[] {
  switch (expression.type) {
    case 'All':
      return expression.expressions.flatMap(fromMatchExpression);
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

/**
 * Condition lines are ANDed; `eq` a string and `in` a list of strings on a plain key give a requirement,
 * and so do `ne` and `not in` under a `not` (`not (a ne "x" or b ne "y")` is `a eq "x" and b eq "y"`).
 */
function fromConditionNode(node: ConditionNode, negated = false): KeyRequirement[] {
  if (node.kind === 'not') return fromConditionNode(node.operand, !negated);
  // Under a not, `and` reads as `or` and `or` as `and` (De Morgan): only a conjunction gives requirements.
  if (node.kind === 'and' || node.kind === 'or') {
    return (node.kind === 'and') !== negated
      ? node.operands.flatMap((operand) => fromConditionNode(operand, negated))
      : [];
  }
  if (!/^[A-Za-z_$][\w$]*$/.test(node.path) || !('value' in node)) return [];
  const operator = negated ? NEGATIONS[node.operator] : node.operator;
  const value: unknown = node.value;
  if (operator === 'eq' && typeof value === 'string') return [{ key: node.path, values: new Set([value]) }];
  if (operator === 'in' && Array.isArray(value)) {
    const values = strings(value);
    return values ? [{ key: node.path, values }] : [];
  }
  return [];
}

/** What a comparison under `not` amounts to, for the two forms that give requirements. */
const NEGATIONS: Partial<Record<string, string>> = { ne: 'eq', 'not in': 'in' };
