// The enabled rules, compiled and indexed by log type, and within a log type by what each rule requires
// of an event's values (rule-index/): an event is evaluated only by the rules that can match it. A
// RuleSet never changes: a rule change builds a new one and swaps it in, so work in flight finishes on
// the set it started with.
import { compileRule, type CompiledRule, type RuleHit } from './compile.js';
import { completeEvent, type DeferredNormalisation } from './events.js';
import {
  backendRuleIdOf,
  type BackendDetection,
  type DetectionBackend,
  type KeyRequirement,
  type Requirement,
} from './formats/rule-format.js';
import { askBackend, verdictAt } from './formats/backend-verdicts.js';
import type { RuleDefinition } from './rule.js';
import { RuleIndex, type IndexedRuleFacts, type RuleIndexSummary } from './rule-index/rule-index.js';
import { forOneEvent } from './shared-predicates.js';
import { isPlainObject, type JsonObject } from './values.js';

export interface RuleErrorReport {
  ruleId: string;
  error: unknown;
}

/** One event's rules that run in a backend, filters passed, for {@link RuleSet.evaluateInBackends}. */
export interface BackendWork {
  readonly event: unknown;
  readonly rules: readonly CompiledRule[];
}

/**
 * The requirements the index may use: not those on `p_` keys, which an event whose normalisation waits
 * does not have yet when the index is consulted.
 */
export function keyRequirements(rule: CompiledRule): Requirement[] {
  return rule.detection.requirements.filter((requirement) =>
    ('anyOf' in requirement ? requirement.anyOf : [requirement]).every(
      (member) => !isNormalisedField(member),
    ),
  );
}

function isNormalisedField(requirement: KeyRequirement): boolean {
  return /^p_/i.test(requirement.path?.[0] ?? requirement.key);
}

function indexedFacts(rule: CompiledRule): IndexedRuleFacts {
  return { requirements: keyRequirements(rule), keysIgnoreCase: rule.detection.keysIgnoreCase };
}

export class RuleSet {
  private readonly byLogType = new Map<string, RuleIndex<CompiledRule>>();
  /** Each rule's place in the set: hits of one event always come in this order. */
  private readonly positions = new Map<string, number>();
  readonly rules: readonly CompiledRule[];
  /** Whether some rule runs in a backend, so that callers without one keep to the synchronous path. */
  readonly hasBackendRules: boolean;

  private constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    rules.forEach((rule, position) => this.positions.set(rule.ruleId, position));
    this.hasBackendRules = rules.some((rule) => !rule.inProcess);
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
    for (const [logType, list] of lists) this.byLogType.set(logType, new RuleIndex(list, indexedFacts));
  }

  static compile(definitions: readonly RuleDefinition[]): RuleSet {
    return new RuleSet(definitions.map((definition) => compileRule(definition)));
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

  /** The rules the index leaves for this event to be evaluated by (measurements and tests). */
  candidatesFor(event: unknown, logType: string): readonly CompiledRule[] {
    return this.byLogType.get(logType)?.candidates(event) ?? [];
  }

  /** Per log type: its rules, how many an index can rule out, and the fields it files them under. */
  indexSummary(): Map<string, RuleIndexSummary> {
    return new Map([...this.byLogType].map(([logType, rules]) => [logType, rules.summary()]));
  }

  /**
   * Evaluates one event against the in-process rules of its log type: a normalised event, or one
   * prepareEvent left as it was (`deferred`), which is normalised before a rule that reads a `p_` field
   * and before the outputs of a hit. A rule that throws is reported through `onError` and skipped: one
   * broken rule never stops the others. Rules that run in a backend are left to
   * {@link backendWork} and {@link evaluateInBackends}.
   */
  evaluate(
    event: unknown,
    logType: string,
    onError?: (report: RuleErrorReport) => void,
    deferred?: DeferredNormalisation,
  ): RuleHit[] {
    const index = this.byLogType.get(logType);
    if (!index) return [];
    return forOneEvent(event, () =>
      this.evaluateCandidates(index.candidates(event), event, onError, deferred),
    );
  }

  private evaluateCandidates(
    rules: readonly CompiledRule[],
    event: unknown,
    onError?: (report: RuleErrorReport) => void,
    deferred?: DeferredNormalisation,
  ): RuleHit[] {
    const hits: RuleHit[] = [];
    let pending = isPlainObject(event) ? deferred : undefined;
    for (const rule of rules) {
      if (!rule.inProcess) continue;
      try {
        if (pending && rule.readsNormalisedFields) {
          completeEvent(event as JsonObject, pending);
          pending = undefined;
        }
        if (!rule.passesFilters(event) || !rule.detect(event)) continue;
        if (pending) {
          completeEvent(event as JsonObject, pending);
          pending = undefined;
        }
        hits.push({ ruleId: rule.ruleId, ...rule.outputs(event) });
      } catch (error) {
        onError?.({ ruleId: rule.ruleId, error });
      }
    }
    return hits;
  }

  /**
   * The event's candidate rules that run in a backend and whose filters it passes, or undefined when
   * there are none. A backend sees the event normalised, so a deferred normalisation is done here.
   */
  backendWork(
    event: unknown,
    logType: string,
    onError?: (report: RuleErrorReport) => void,
    deferred?: DeferredNormalisation,
  ): BackendWork | undefined {
    if (!this.hasBackendRules) return undefined;
    const candidates = this.byLogType.get(logType)?.candidates(event) ?? [];
    const rules: CompiledRule[] = [];
    for (const rule of candidates) {
      if (rule.inProcess) continue;
      try {
        if (deferred && isPlainObject(event)) {
          completeEvent(event, deferred);
          deferred = undefined;
        }
        if (rule.passesFilters(event)) rules.push(rule);
      } catch (error) {
        onError?.({ ruleId: rule.ruleId, error });
      }
    }
    return rules.length > 0 ? { event, rules } : undefined;
  }

  /**
   * Hands each backend the events its rules must look at, all at once and every backend concurrently,
   * and returns each event's hits. A backend that fails, or answers out of shape, counts as an error of
   * each of its rules on each of its events: its hits are missing, the others are not.
   */
  async evaluateInBackends(
    work: readonly BackendWork[],
    onError?: (report: RuleErrorReport) => void,
  ): Promise<RuleHit[][]> {
    const hits: RuleHit[][] = work.map(() => []);
    const byBackend = new Map<DetectionBackend, { item: number; rules: CompiledRule[] }[]>();
    work.forEach(({ rules }, item) => {
      for (const rule of rules) {
        const backend = (rule.detection as BackendDetection).backend;
        let shares = byBackend.get(backend);
        if (!shares) byBackend.set(backend, (shares = []));
        const last = shares[shares.length - 1];
        if (last?.item === item) last.rules.push(rule);
        else shares.push({ item, rules: [rule] });
      }
    });
    await Promise.all(
      [...byBackend].map(async ([backend, shares]) => {
        const answer = await askBackend(
          backend,
          shares.map(({ item, rules }) => ({
            event: work[item]?.event,
            ruleIds: rules.map((rule) => backendRuleIdOf(rule.ruleId, rule.detection as BackendDetection)),
          })),
        );
        shares.forEach(({ item, rules }, share) => {
          const event = work[item]?.event;
          rules.forEach((rule, index) => {
            const verdict = verdictAt(backend, answer, share, index);
            if ('error' in verdict) {
              onError?.({ ruleId: rule.ruleId, error: new Error(verdict.error) });
              return;
            }
            if (!verdict.matched) return;
            try {
              hits[item]?.push({ ruleId: rule.ruleId, ...rule.outputs(event), ...verdict.outputs });
            } catch (error) {
              onError?.({ ruleId: rule.ruleId, error });
            }
          });
        });
      }),
    );
    return hits;
  }

  /** One event's hits from both paths, in rule order. */
  inRuleOrder(inProcess: readonly RuleHit[], fromBackends: readonly RuleHit[]): RuleHit[] {
    if (fromBackends.length === 0) return [...inProcess];
    const positionOf = (hit: RuleHit) => this.positions.get(hit.ruleId) ?? 0;
    return [...inProcess, ...fromBackends].sort((a, b) => positionOf(a) - positionOf(b));
  }

  /** Both paths for one event (rule tests, a single event's check): in-process hits and backend hits. */
  async evaluateEvent(
    event: unknown,
    logType: string,
    onError?: (report: RuleErrorReport) => void,
    deferred?: DeferredNormalisation,
  ): Promise<RuleHit[]> {
    const inProcess = this.evaluate(event, logType, onError, deferred);
    const work = this.backendWork(event, logType, onError, deferred);
    if (!work) return inProcess;
    const [fromBackends = []] = await this.evaluateInBackends([work], onError);
    return this.inRuleOrder(inProcess, fromBackends);
  }
}
