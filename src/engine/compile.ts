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
  /** Whether its detection or filters read a `p_` field, which an event whose normalisation waits lacks. */
  readonly readsNormalisedFields: boolean;
  /** Filters, then detection, then outputs: the hit, or null when the rule does not match. */
  evaluate(event: unknown): RuleHit | null;
}

const always: EventPredicate = () => true;
const NORMALISED_FIELD = /(?<![a-z0-9])p_/i;

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
  // Any mention of a `p_` name counts, in any case (Panther keys match ignoring case).
  const readsNormalisedFields = NORMALISED_FIELD.test(
    JSON.stringify([definition.detection, definition.inlineFilters]),
  );
  return {
    definition,
    ruleId,
    detect,
    passesFilters,
    outputs,
    readsNormalisedFields,
    evaluate(event) {
      if (!passesFilters(event) || !detect(event)) return null;
      return { ruleId, ...outputs(event) };
    },
  };
}
