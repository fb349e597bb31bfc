// The enabled rules, compiled and indexed by log type. A RuleSet never changes: a rule change builds a
// new one and swaps it in, so work in flight finishes on the set it started with.
import { compileRule, type CompiledRule, type RuleHit } from './compile.js';
import type { RuleDefinition } from './rule.js';

export interface RuleErrorReport {
  ruleId: string;
  error: unknown;
}

export class RuleSet {
  private readonly byLogType = new Map<string, CompiledRule[]>();
  readonly rules: readonly CompiledRule[];

  private constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    for (const rule of rules) {
      // Scheduled rules run on the rows of a query, not on streamed events.
      if (rule.definition.analysisType !== 'rule') continue;
      for (const logType of rule.definition.logTypes) {
        const list = this.byLogType.get(logType);
        if (list) list.push(rule);
        else this.byLogType.set(logType, [rule]);
      }
    }
  }

  static compile(definitions: readonly RuleDefinition[]): RuleSet {
    return new RuleSet(definitions.map(compileRule));
  }

  static fromCompiled(rules: readonly CompiledRule[]): RuleSet {
    return new RuleSet(rules);
  }

  static readonly empty = new RuleSet([]);

  get size(): number {
    return this.rules.length;
  }

  rulesFor(logType: string): readonly CompiledRule[] {
    return this.byLogType.get(logType) ?? [];
  }

  get logTypes(): string[] {
    return [...this.byLogType.keys()].sort();
  }

  /**
   * Evaluates one normalised event against the rules of its log type. A rule that throws is reported
   * through `onError` and skipped: one broken rule never stops the others.
   */
  evaluate(event: unknown, logType: string, onError?: (report: RuleErrorReport) => void): RuleHit[] {
    const rules = this.byLogType.get(logType);
    if (!rules) return [];
    const hits: RuleHit[] = [];
    for (const rule of rules) {
      try {
        const hit = rule.evaluate(event);
        if (hit) hits.push(hit);
      } catch (error) {
        onError?.({ ruleId: rule.ruleId, error });
      }
    }
    return hits;
  }
}
