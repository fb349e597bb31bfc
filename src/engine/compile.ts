// A rule compiled once into closures: the detection, its inline filters and its outputs.
import { compileConditionLines } from './condition/index.js';
import { compileOutputs, type RuleOutputs } from './outputs.js';
import { compileMatchList, type EventPredicate } from './panther/compile.js';
import type { RuleDefinition } from './rule.js';

export interface RuleHit extends RuleOutputs {
  ruleId: string;
}

export interface CompiledRule {
  readonly definition: RuleDefinition;
  readonly ruleId: string;
  /** The rule's detection logic alone. */
  readonly detect: EventPredicate;
  /** InlineFilters: an event must pass them before the detection looks at it. */
  readonly passesFilters: EventPredicate;
  readonly outputs: (event: unknown) => RuleOutputs;
  /** Filters, then detection, then outputs: the hit, or null when the rule does not match. */
  evaluate(event: unknown): RuleHit | null;
}

const always: EventPredicate = () => true;

export function compileRule(definition: RuleDefinition): CompiledRule {
  const detect =
    definition.detection.language === 'condition'
      ? compileConditionLines(definition.detection.lines)
      : compileMatchList(definition.detection.expressions);
  const passesFilters =
    definition.inlineFilters.length > 0
      ? compileMatchList(definition.inlineFilters, { missingPasses: true })
      : always;
  const outputs = compileOutputs(definition);
  const ruleId = definition.ruleId;
  return {
    definition,
    ruleId,
    detect,
    passesFilters,
    outputs,
    evaluate(event) {
      if (!passesFilters(event) || !detect(event)) return null;
      return { ruleId, ...outputs(event) };
    },
  };
}
