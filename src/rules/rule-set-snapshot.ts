// The active rules as one value: the compiled, indexed set and which stored version each rule is. Built
// from the enabled rules' stored sources, here rather than in the Nest service, so that an evaluation
// thread (ingest/evaluation.worker.ts) builds the very same set from the same sources.
import { compileRule, type CompiledRule } from '../engine/compile.js';
import { readStoredRule } from '../engine/formats/registry.js';
import type { CompileContext } from '../engine/formats/rule-format.js';
import { RuleSet } from '../engine/rule-set.js';
import { EMPTY_LIBRARY, type PythonLibrary } from '../engine/python/python-library.js';
import type { LibraryVersions } from '../storage/entities.js';
import type { ActiveRuleSource } from './rule-store.js';

export interface ActiveRule {
  compiled: CompiledRule;
  versionId: number;
  version: number;
}

/** The global helpers and data models Python rules run with, and the stored version of each. */
export interface ActiveLibrary {
  readonly python: PythonLibrary;
  readonly versions: LibraryVersions;
}

export const EMPTY_ACTIVE_LIBRARY: ActiveLibrary = {
  python: EMPTY_LIBRARY,
  versions: { globals: {}, dataModels: {} },
};

/** The rules and which stored version each one is, taken together so that they always agree. */
export interface RuleSetSnapshot {
  readonly ruleSet: RuleSet;
  readonly versions: ReadonlyMap<string, ActiveRule>;
  /** Counts the rebuilds of this process's active set: an evaluation thread builds the same one. */
  readonly generation: number;
  /** What the set's Python rules import and read through data models. */
  readonly library: ActiveLibrary;
}

export const EMPTY_SNAPSHOT: RuleSetSnapshot = {
  ruleSet: RuleSet.empty,
  versions: new Map(),
  generation: 0,
  library: EMPTY_ACTIVE_LIBRARY,
};

export interface BuiltSnapshot {
  snapshot: RuleSetSnapshot;
  /** The compiled rules by rule_versions.id, to be reused by the next build. */
  compiledByVersionId: Map<number, CompiledRule>;
  /** Rules read and compiled from their source in this build. */
  compiledNow: number;
  /** Stored rules that no longer load (the engine became stricter, or their format is gone). */
  unreadable: { ruleId: string; format: string }[];
}

/**
 * Builds the set from the sources; `reuse` holds compiled versions by rule_versions.id (versions never
 * change, so a compiled one stays right). Only the versions in use are kept for the next build.
 */
export function buildSnapshot(
  sources: readonly ActiveRuleSource[],
  generation: number,
  library: ActiveLibrary,
  /** Where rules that run in a backend are compiled: this service's Python workers. */
  context: CompileContext | undefined,
  ...reuse: (ReadonlyMap<number, CompiledRule> | undefined)[]
): BuiltSnapshot {
  const versions = new Map<string, ActiveRule>();
  const compiledByVersionId = new Map<number, CompiledRule>();
  const unreadable: BuiltSnapshot['unreadable'] = [];
  let compiledNow = 0;
  for (const source of sources) {
    let compiled = reuse.map((known) => known?.get(source.versionId)).find((rule) => rule !== undefined);
    if (!compiled) {
      const definition = readStoredRule(source.format, source.source);
      if (!definition) {
        unreadable.push({ ruleId: source.ruleId, format: source.format });
        continue;
      }
      compiled = compileRule(definition, context);
      compiledNow += 1;
    }
    compiledByVersionId.set(source.versionId, compiled);
    versions.set(source.ruleId, { compiled, versionId: source.versionId, version: source.version });
  }
  const ruleSet = RuleSet.fromCompiled([...versions.values()].map((rule) => rule.compiled));
  return {
    snapshot: { ruleSet, versions, generation, library },
    compiledByVersionId,
    compiledNow,
    unreadable,
  };
}
