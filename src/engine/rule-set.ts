// The enabled rules, compiled and indexed by log type, and within a log type by the values of up to three
// keys (e.g. eventName, eventSource): an event is evaluated only by the rules that can match it. A RuleSet never changes:
// a rule change builds a new one and swaps it in, so work in flight finishes on the set it started with.
import { compileRule, type CompiledRule, type RuleHit } from './compile.js';
import { completeEvent, type DeferredNormalisation } from './events.js';
import { type BackendDetection, type DetectionBackend, type KeyRequirement } from './formats/rule-format.js';
import { foldKey, ownKeyIgnoringCase, type FoldedKey } from './paths.js';
import { askBackend, verdictAt } from './formats/backend-verdicts.js';
import type { RuleDefinition } from './rule.js';
import { getOwn, hasOwn, isPlainObject, type JsonObject } from './values.js';

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
export function keyRequirements(rule: CompiledRule): KeyRequirement[] {
  return rule.detection.requirements.filter((requirement) => !/^p_/i.test(requirement.key));
}

/** Keys a log type's rules are indexed by: the most common required key, then the most common among the rest. */
const INDEX_KEYS = 3;
/** Candidate lists are made per combination of key values as events bring them; past this many, anew. */
const MAX_CACHED_COMBINATIONS = 10_000;

/** Candidate lists by key values: a map a key, the last one holding the lists. */
type CandidateTree = Map<string | symbol, CandidateTree | readonly CompiledRule[]>;
const NOT_A_STRING = Symbol('not a string');

/** One indexing key: for each value, the positions of the rules that require the key to hold it. */
interface KeyIndex {
  key: string;
  foldedKey: FoldedKey;
  byValue: Map<string, number[]>;
  /** Whether a rule indexed here reads keys ignoring case (Panther's language), as the index must then. */
  caseInsensitive: boolean;
}

/**
 * The rules of one log type. A rule that requires a key to hold one of a few strings (eventName is one
 * of [...]) is indexed under that key, so that an event is evaluated only by the rules its values allow,
 * plus the rules no index can rule out; always in rule order.
 */
class LogTypeRules {
  private readonly indexes: KeyIndex[] = [];
  /** Positions of the rules no index rules out. */
  private readonly unindexed: number[] = [];
  /** Candidate lists by the event's values under the index keys, one map level a key, made as events come. */
  private candidateLists: CandidateTree = new Map();
  private cachedLists = 0;

  constructor(readonly all: readonly CompiledRule[]) {
    let requirements = all.map((rule, position) => ({ position, list: keyRequirements(rule) }));
    for (let level = 0; level < INDEX_KEYS && requirements.length > 0; level++) {
      const counts = new Map<string, number>();
      for (const { list } of requirements)
        for (const key of new Set(list.map((r) => r.key))) counts.set(key, (counts.get(key) ?? 0) + 1);
      const key = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
      if (key === undefined) break;
      const index: KeyIndex = {
        key,
        foldedKey: foldKey(key),
        byValue: new Map(),
        caseInsensitive: false,
      };
      const rest: typeof requirements = [];
      for (const rule of requirements) {
        // Several requirements on the key: the event's value must be in all of them.
        const [first, ...others] = rule.list.filter((r) => r.key === key).map((r) => r.values);
        if (first === undefined) {
          rest.push(rule);
          continue;
        }
        if (all[rule.position]?.detection.keysIgnoreCase) index.caseInsensitive = true;
        for (const value of first) {
          if (!others.every((set) => set.has(value))) continue;
          const positions = index.byValue.get(value);
          if (positions) positions.push(rule.position);
          else index.byValue.set(value, [rule.position]);
        }
      }
      this.indexes.push(index);
      requirements = rest;
    }
    this.unindexed = requirements.map((rule) => rule.position);
  }

  /** How many rules an index rules out for some events, and the keys of the indexes. */
  summary(): { rules: number; indexed: number; keys: string[] } {
    return {
      rules: this.all.length,
      indexed: this.all.length - this.unindexed.length,
      keys: this.indexes.map((index) => index.key),
    };
  }

  /** The rules that can match this event, in rule order. */
  candidates(event: unknown): readonly CompiledRule[] {
    if (this.indexes.length === 0 || !isPlainObject(event)) return this.all;
    // Rules that find a missing key under another case, which the index does not: read them all.
    for (const { key, foldedKey, caseInsensitive } of this.indexes) {
      if (caseInsensitive && !hasOwn(event, key) && ownKeyIgnoringCase(event, foldedKey) !== undefined)
        return this.all;
    }
    let level: CandidateTree = this.candidateLists;
    let found: CandidateTree | readonly CompiledRule[] | undefined;
    for (const { key } of this.indexes) {
      const value = getOwn(event, key);
      // A value that is no string meets no string requirement.
      found = level.get(typeof value === 'string' ? value : NOT_A_STRING);
      if (found === undefined) return this.remember(event);
      if (!(found instanceof Map)) return found;
      level = found;
    }
    return this.all;
  }

  private remember(event: Record<string, unknown>): readonly CompiledRule[] {
    const positions = new Set(this.unindexed);
    for (const { key, byValue } of this.indexes) {
      const value = getOwn(event, key);
      for (const position of (typeof value === 'string' ? byValue.get(value) : undefined) ?? [])
        positions.add(position);
    }
    const list = [...positions].sort((a, b) => a - b).map((position) => this.all[position] as CompiledRule);
    if (++this.cachedLists > MAX_CACHED_COMBINATIONS) {
      this.candidateLists = new Map();
      this.cachedLists = 1;
    }
    let level = this.candidateLists;
    this.indexes.forEach(({ key }, depth) => {
      const value = getOwn(event, key);
      const at = typeof value === 'string' ? value : NOT_A_STRING;
      if (depth === this.indexes.length - 1) {
        level.set(at, list);
        return;
      }
      let next = level.get(at);
      if (!(next instanceof Map)) {
        next = new Map();
        level.set(at, next);
      }
      level = next;
    });
    return list;
  }
}

export class RuleSet {
  private readonly byLogType = new Map<string, LogTypeRules>();
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

  /** The rules the index leaves for this event to be evaluated by (measurements and tests). */
  candidatesFor(event: unknown, logType: string): readonly CompiledRule[] {
    return this.byLogType.get(logType)?.candidates(event) ?? [];
  }

  /** Per log type: its rules, how many an index can rule out, and the keys it indexes them by. */
  indexSummary(): Map<string, { rules: number; indexed: number; keys: string[] }> {
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
    const rules = this.byLogType.get(logType)?.candidates(event);
    if (!rules) return [];
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
            ruleIds: rules.map((rule) => rule.ruleId),
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
