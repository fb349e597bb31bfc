// Engine scaling: the same corpus events through rule sets of 10 to 10,000 generated CloudTrail rules,
// each against JSON.parse of the same lines in the same run, and each checked against the plain evaluator
// (rule id and event index) before it is timed. Larger sets run on fewer events so that every size takes
// seconds, not minutes; the floor is measured on exactly those events.
import { prepareEvent } from '../src/engine/events.js';
import { loadRuleSource } from '../src/engine/panther/rule-file.js';
import type { RuleDefinition } from '../src/engine/rule.js';
import { RuleSet } from '../src/engine/rule-set.js';
import {
  collectEngineHits,
  collectPlainHits,
  compareHits,
  measureEngineThroughput,
} from './engine-throughput.js';
import { generateRules, type CorpusProfile, type GeneratedRule } from './generated-rules.js';
import { count, markdownTable } from './report.js';

export const SCALING_SIZES = [10, 100, 1_000, 3_000, 10_000] as const;
/** Ratio to JSON.parse each size must reach (issue "Speed at scale"); none is set for 10 rules. */
export const SCALING_TARGETS: Readonly<Record<number, number>> = {
  100: 0.7,
  1_000: 0.5,
  3_000: 0.35,
  10_000: 0.25,
};
const CLOUDTRAIL = 'AWS.CloudTrail';

export interface ScalingRow {
  rules: number;
  events: number;
  engine: number;
  floor: number;
  ratio: number;
  target: number | undefined;
  /** Rules the index leaves to evaluate, per event, on average. */
  candidatesPerEvent: number;
  /** Share of the rules an index can rule out for some events. */
  indexedShare: number;
  indexKeys: string[];
  /** Share of the events that at least one rule flags, and hits in all. */
  eventsHitShare: number;
  hits: number;
  compileMs: number;
  /** Building the index again over the compiled rules: what a rule change costs the active set. */
  reindexMs: number;
  /** Heap the compiled set takes (after a collection), in MB. */
  heapMb: number;
  /** Differences between the engine's hits and the plain evaluator's (0: identical). */
  differences: number;
}

/** Two collections: the first may only queue what the second frees (the previous size's rule set). */
const gc = () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
};

function definitionsOf(yamlTexts: readonly string[]): RuleDefinition[] {
  return yamlTexts.map((yaml) => {
    const { rules, diagnostics } = loadRuleSource(yaml);
    const rule = rules[0];
    if (!rule) throw new Error(`a generated rule does not load: ${diagnostics[0]?.message ?? yaml}`);
    return rule;
  });
}

/** Rules of each set that watch calls the corpus holds (all of them in a smaller set). */
export const WATCHING_RULES = 20;

/**
 * The scaling table's set of `size` rules, generated and loaded: about as many rules watch calls the
 * corpus makes at every size, so that the hit rate stays near what real rule sets see and the table
 * shows the cost of rules that do not match.
 */
export function scalingRuleSet(
  profile: CorpusProfile,
  size: number,
): { generated: GeneratedRule[]; definitions: RuleDefinition[] } {
  const generated = generateRules(profile, size, undefined, {
    watchedShare: Math.min(1, WATCHING_RULES / size),
    mix: 'realistic',
  });
  return { generated, definitions: definitionsOf(generated.map((rule) => rule.yaml)) };
}
/** About this many rule evaluations per timed run at most: the bigger sets take fewer events. */
const EVALUATIONS_PER_RUN = 100_000_000;

export function measureEngineScaling(
  lines: readonly string[],
  profile: CorpusProfile,
  progress: (message: string) => void,
  sizes: readonly number[] = SCALING_SIZES,
  runs = 3,
): ScalingRow[] {
  const rows: ScalingRow[] = [];
  for (const size of sizes) {
    const { generated, definitions } = scalingRuleSet(profile, size);
    const events = lines.slice(
      0,
      Math.min(lines.length, Math.max(50_000, Math.floor(EVALUATIONS_PER_RUN / size))),
    );
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const compileStarted = process.hrtime.bigint();
    const ruleSet = RuleSet.compile(definitions);
    const compileMs = Number(process.hrtime.bigint() - compileStarted) / 1e6;
    gc();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    const reindexStarted = process.hrtime.bigint();
    RuleSet.fromCompiled(ruleSet.rules);
    const reindexMs = Number(process.hrtime.bigint() - reindexStarted) / 1e6;

    const engineHits = collectEngineHits(events, ruleSet);
    const plainHits = collectPlainHits(
      events,
      generated.map((rule) => rule.description),
    );
    const comparison = compareHits(engineHits.byRule, plainHits, 3);
    if (comparison.total > 0)
      progress(
        `  MISMATCH at ${size} rules: ${comparison.total} differences, first ${JSON.stringify(comparison.differences)}`,
      );
    const flagged = new Set<number>();
    let hits = 0;
    for (const indexes of engineHits.byRule.values()) {
      hits += indexes.length;
      for (const index of indexes) flagged.add(index);
    }

    let candidates = 0;
    const receivedAt = new Date();
    for (const line of events) {
      const prepared = prepareEvent(JSON.parse(line), { receivedAt, deferNormalisation: true });
      if (prepared.ok) candidates += ruleSet.candidatesFor(prepared.event, prepared.logType).length;
    }
    const summary = ruleSet.indexSummary().get(CLOUDTRAIL) ?? { rules: 0, indexed: 0, keys: [] };

    progress(
      `  ${count(size)} rules: compiled in ${compileMs.toFixed(0)} ms, timing over ${count(events.length)} events`,
    );
    const throughput = measureEngineThroughput(events, ruleSet, runs, progress);
    rows.push({
      rules: size,
      events: events.length,
      engine: throughput.engine.median,
      floor: throughput.floor.median,
      ratio: throughput.engine.median / throughput.floor.median,
      target: SCALING_TARGETS[size],
      candidatesPerEvent: candidates / events.length,
      indexedShare: summary.rules === 0 ? 0 : summary.indexed / summary.rules,
      indexKeys: summary.keys,
      eventsHitShare: flagged.size / events.length,
      hits,
      compileMs,
      reindexMs,
      heapMb,
      differences: comparison.total,
    });
  }
  return rows;
}

/** The scaling table, Markdown padded for a terminal. */
export function scalingTable(rows: readonly ScalingRow[]): string {
  const header = [
    'rules',
    'events',
    'engine events/s',
    'JSON.parse events/s',
    'ratio',
    'target',
    'candidates/event',
    'indexed',
    'events hit',
    'compile',
    're-index',
    'heap',
    'hits = plain',
  ];
  const cells = rows.map((row) => [
    count(row.rules),
    count(row.events),
    count(row.engine),
    count(row.floor),
    row.ratio.toFixed(2),
    row.target === undefined
      ? '—'
      : `≥ ${row.target.toFixed(2)} ${row.ratio >= row.target ? 'PASS' : 'FAIL'}`,
    row.candidatesPerEvent.toFixed(1),
    `${(row.indexedShare * 100).toFixed(0)}%`,
    `${(row.eventsHitShare * 100).toFixed(2)}%`,
    `${row.compileMs.toFixed(0)} ms`,
    `${row.reindexMs.toFixed(0)} ms`,
    `${row.heapMb.toFixed(1)} MB`,
    row.differences === 0 ? 'yes' : `NO (${row.differences})`,
  ]);
  return markdownTable(header, cells);
}
