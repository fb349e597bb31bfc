// The enabled rules, compiled and indexed by log type, and within a log type by the value of one key
// (e.g. eventName): an event is evaluated only by the rules that can match it. A RuleSet never changes:
// a rule change builds a new one and swaps it in, so work in flight finishes on the set it started with.
import { compileRule, type CompiledRule, type RuleHit } from './compile.js';
import { completeEvent } from './events.js';
import { keyRequirements } from './prefilter.js';
import type { RuleDefinition } from './rule.js';
import { hasOwn, isPlainObject } from './values.js';

export interface RuleErrorReport {
  ruleId: string;
  error: unknown;
}

/**
 * The rules of one log type. When several of them require one key to hold one of a few strings, the
 * most common such key indexes them: for each value, the rules that can match an event carrying it.
 */
class LogTypeRules {
  private readonly key: string | undefined;
  /** In rule order: the rules for each value of `key`, each list with the unindexed rules merged in. */
  private readonly byValue = new Map<string, readonly CompiledRule[]>();
  /** The rules no value of `key` rules out. */
  private readonly unindexed: readonly CompiledRule[];

  constructor(readonly all: readonly CompiledRule[]) {
    const requirements = all.map((rule) => keyRequirements(rule.definition));
    const counts = new Map<string, number>();
    for (const list of requirements)
      for (const key of new Set(list.map((r) => r.key))) counts.set(key, (counts.get(key) ?? 0) + 1);
    this.key = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    const allowed = requirements.map((list) => {
      // Several requirements on the key: the event's value must be in all of them.
      const sets = list.filter((requirement) => requirement.key === this.key).map((r) => r.values);
      const [first, ...rest] = sets;
      return first === undefined
        ? undefined
        : [...first].filter((value) => rest.every((set) => set.has(value)));
    });
    this.unindexed = all.filter((_, index) => allowed[index] === undefined);
    const values = new Set(allowed.flatMap((list) => list ?? []));
    for (const value of values) {
      this.byValue.set(
        value,
        all.filter((_, index) => {
          const list = allowed[index];
          return list === undefined || list.includes(value);
        }),
      );
    }
  }

  /** The rules that can match this event, in rule order. */
  candidates(event: unknown): readonly CompiledRule[] {
    if (this.key === undefined || !isPlainObject(event)) return this.all;
    // Panther rules find a missing key under another case, which the index does not: read them all.
    if (!hasOwn(event, this.key)) return this.all;
    const value = event[this.key];
    if (typeof value !== 'string') return this.unindexed;
    return this.byValue.get(value) ?? this.unindexed;
  }
}

export class RuleSet {
  private readonly byLogType = new Map<string, LogTypeRules>();
  readonly rules: readonly CompiledRule[];

  private constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    const lists = new Map<string, CompiledRule[]>();
    for (const rule of rules) {
      // Scheduled rules run on the rows of a query, not on streamed events.
      if (rule.definition.analysisType !== 'rule') continue;
      for (const logType of rule.definition.logTypes) {
        const list = lists.get(logType);
        if (list) list.push(rule);
        else lists.set(logType, [rule]);
      }
    }
    for (const [logType, list] of lists) this.byLogType.set(logType, new LogTypeRules(list));
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
    return this.byLogType.get(logType)?.all ?? [];
  }

  get logTypes(): string[] {
    return [...this.byLogType.keys()].sort();
  }

  /**
   * Evaluates one normalised event against the rules of its log type. A rule that throws is reported
   * through `onError` and skipped: one broken rule never stops the others.
   */
  evaluate(event: unknown, logType: string, onError?: (report: RuleErrorReport) => void): RuleHit[] {
    const rules = this.byLogType.get(logType)?.candidates(event);
    if (!rules) return [];
    const hits: RuleHit[] = [];
    for (const rule of rules) {
      try {
        // Derived fields prepareEvent deferred are added for the rules that read them, and for every hit.
        if (rule.readsDerivedFields) completeEvent(event);
        if (!rule.passesFilters(event) || !rule.detect(event)) continue;
        completeEvent(event);
        hits.push({ ruleId: rule.ruleId, ...rule.outputs(event) });
      } catch (error) {
        onError?.({ ruleId: rule.ruleId, error });
      }
    }
    return hits;
  }
}
