// A rule compiled once: its detection (by its format), its inline filters and its outputs.
import { ruleFormat } from './formats/registry.js';
import {
  runsInProcess,
  type CompileContext,
  type CompiledDetection,
  type EventPredicate,
} from './formats/rule-format.js';
import { compileOutputs, type RuleOutputs } from './outputs.js';
import { compileMatchList } from './panther/compile.js';
import { readsNormalisedFields as filtersReadNormalisedFields } from './panther/format.js';
import type { RuleDefinition } from './rule.js';

export interface RuleHit extends RuleOutputs {
  ruleId: string;
}

export interface CompiledRule {
  readonly definition: RuleDefinition;
  readonly ruleId: string;
  /** The detection as its format compiled it, with what the rule index may rely on. */
  readonly detection: CompiledDetection;
  /** Whether the detection runs in this process; read once per candidate, so decided at compile time. */
  readonly inProcess: boolean;
  /**
   * The rule's detection logic alone, in this process. A rule whose format evaluates elsewhere throws
   * here: the rule set hands it to its backend instead.
   */
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

export function compileRule(definition: RuleDefinition, context?: CompileContext): CompiledRule {
  const detection = ruleFormat(definition.detection.language).compile(definition, context);
  const ruleId = definition.ruleId;
  const inProcess = runsInProcess(detection);
  const detect: EventPredicate = inProcess
    ? detection.matches
    : () => {
        throw new Error(`rule ${ruleId} runs in ${detection.backend.name}, not in this process`);
      };
  // InlineFilters are Panther match expressions whatever the detection's format.
  const passesFilters =
    definition.inlineFilters.length > 0
      ? compileMatchList(definition.inlineFilters, { missingPasses: true })
      : always;
  const outputs = compileOutputs(definition);
  return {
    definition,
    ruleId,
    detection,
    inProcess,
    detect,
    passesFilters,
    outputs,
    readsNormalisedFields:
      detection.readsNormalisedFields || filtersReadNormalisedFields(definition.inlineFilters),
    evaluate(event) {
      if (!passesFilters(event) || !detect(event)) return null;
      return { ruleId, ...outputs(event) };
    },
  };
}
