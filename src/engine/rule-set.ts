// The enabled rules, compiled and indexed by log type, and within a log type by the values of up to three
// keys (e.g. eventName, eventSource): an event is evaluated only by the rules that can match it. A RuleSet never changes:
// a rule change builds a new one and swaps it in, so work in flight finishes on the set it started with.
import { compileRule, type CompiledRule, type RuleHit } from './compile.js';
import { completeEvent, type DeferredNormalisation } from './events.js';
import { foldKey, ownKeyIgnoringCase, type FoldedKey } from './paths.js';
import { keyRequirements } from './prefilter.js';
import type { RuleDefinition } from './rule.js';
import { getOwn, hasOwn, isPlainObject, type JsonObject } from './values.js';

export interface RuleErrorReport {
  ruleId: string;
  error: unknown;
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
    let requirements = all.map((rule, position) => ({ position, list: keyRequirements(rule.definition) }));
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
        if (all[rule.position]?.definition.detection.language === 'panther') index.caseInsensitive = true;
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

  /** The rules that can match this event, in rule order. */
  candidates(event: unknown): readonly CompiledRule[] {
    if (this.indexes.length === 0 || !isPlainObject(event)) return this.all;
    // Panther rules find a missing key under another case, which the index does not: read them all.
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
   * Evaluates one event against the rules of its log type: a normalised one, or one prepareEvent left as
   * it was (`deferred`), which is normalised before a rule that reads a `p_` field and before the outputs
   * of a hit. A rule that throws is reported through `onError` and skipped: one broken rule never stops
   * the others.
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
}
