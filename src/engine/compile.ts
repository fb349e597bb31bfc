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
  /** Whether its detection or filters read derived fields (p_any_*, p_udm, p_row_id), which may still be pending. */
  readonly readsDerivedFields: boolean;
  /** Filters, then detection, then outputs: the hit, or null when the rule does not match. */
  evaluate(event: unknown): RuleHit | null;
}

const always: EventPredicate = () => true;
const DERIVED_FIELD = /p_any_|p_udm|p_row_id/i;

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
  // Any mention of a derived field's name counts, in any case (Panther keys match ignoring case).
  const readsDerivedFields = DERIVED_FIELD.test(
    JSON.stringify([definition.detection, definition.inlineFilters]),
  );
  return {
    definition,
    ruleId,
    detect,
    passesFilters,
    outputs,
    readsDerivedFields,
    evaluate(event) {
      if (!passesFilters(event) || !detect(event)) return null;
      return { ruleId, ...outputs(event) };
    },
  };
}
