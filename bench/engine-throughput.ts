// Part 1: the engine's throughput against bare JSON.parse, in this process, over the same in-memory lines.
import { prepareEvent } from '../src/engine/events.js';
import type { RuleSet } from '../src/engine/rule-set.js';
import { PlainEvaluator } from './plain-evaluator.js';
import type { PlainRule } from './generated-rules.js';

export interface Rate {
  /** Events per second of each timed run, in the order run. */
  runs: number[];
  median: number;
}

export interface EngineThroughput {
  floor: Rate;
  engine: Rate;
}

/** `--expose-gc` makes it available: a collection before each run keeps one run's garbage out of the next. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function timed(work: () => number): { seconds: number; result: number } {
  collectGarbage();
  const started = process.hrtime.bigint();
  const result = work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

/** The floor: decode each line and nothing else. The count keeps the work from being optimised away. */
function parseOnly(lines: readonly string[]): number {
  let objects = 0;
  for (const line of lines) {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object') objects += 1;
  }
  return objects;
}

/**
 * What ingest does per event before storage: decode, normalise, evaluate the rules of its log type. As in
 * ingest, a CloudTrail event is normalised only for a rule that reads a `p_` field and for a hit, which
 * RuleSet.evaluate does.
 */
function parseAndEvaluate(lines: readonly string[], ruleSet: RuleSet): number {
  // One receive time per pass, as ingest takes one per batch.
  const receivedAt = new Date();
  let hits = 0;
  for (const line of lines) {
    const prepared = prepareEvent(JSON.parse(line), { receivedAt, deferNormalisation: true });
    if (prepared.ok)
      hits += ruleSet.evaluate(prepared.event, prepared.logType, undefined, prepared.deferred).length;
  }
  return hits;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** One warm-up of each, then `runs` timed runs of each, alternating floor and engine. */
export function measureEngineThroughput(
  lines: readonly string[],
  ruleSet: RuleSet,
  runs: number,
  progress: (message: string) => void,
): EngineThroughput {
  parseOnly(lines);
  parseAndEvaluate(lines, ruleSet);
  const floor: number[] = [];
  const engine: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const bare = timed(() => parseOnly(lines));
    floor.push(lines.length / bare.seconds);
    const full = timed(() => parseAndEvaluate(lines, ruleSet));
    engine.push(lines.length / full.seconds);
    progress(
      `  run ${run}/${runs}: JSON.parse ${Math.round(floor.at(-1) ?? 0)} events/s, engine ${Math.round(engine.at(-1) ?? 0)} events/s`,
    );
  }
  return { floor: { runs: floor, median: median(floor) }, engine: { runs: engine, median: median(engine) } };
}

export interface EngineHits {
  /** Per rule, the indexes of the events it flagged. */
  byRule: Map<string, number[]>;
  rejected: { index: number; error: string }[];
  ruleErrors: Map<string, number>;
}

/** The untimed correctness pass: every hit with its rule and event index. */
export function collectEngineHits(lines: readonly string[], ruleSet: RuleSet): EngineHits {
  const byRule = new Map<string, number[]>(ruleSet.rules.map((rule) => [rule.ruleId, []]));
  const rejected: EngineHits['rejected'] = [];
  const ruleErrors = new Map<string, number>();
  const receivedAt = new Date();
  lines.forEach((line, index) => {
    const prepared = prepareEvent(JSON.parse(line), { receivedAt, deferNormalisation: true });
    if (!prepared.ok) {
      rejected.push({ index, error: prepared.error });
      return;
    }
    const hits = ruleSet.evaluate(
      prepared.event,
      prepared.logType,
      ({ ruleId }) => ruleErrors.set(ruleId, (ruleErrors.get(ruleId) ?? 0) + 1),
      prepared.deferred,
    );
    for (const hit of hits) byRule.get(hit.ruleId)?.push(index);
  });
  return { byRule, rejected, ruleErrors };
}

/** The plain evaluator's hits, over freshly parsed events (the engine's pass mutates the ones it gets). */
export function collectPlainHits(
  lines: readonly string[],
  rules: readonly PlainRule[],
): Map<string, number[]> {
  const evaluator = new PlainEvaluator(rules);
  lines.forEach((line, index) => evaluator.add(index, JSON.parse(line)));
  return evaluator.hits;
}

export interface HitDifference {
  ruleId: string;
  index: number;
  engine: boolean;
  plain: boolean;
}

/** Events flagged by one side and not the other, rule by rule, at most `limit`. */
export function compareHits(
  engine: ReadonlyMap<string, readonly number[]>,
  plain: ReadonlyMap<string, readonly number[]>,
  limit: number,
): { differences: HitDifference[]; total: number } {
  const differences: HitDifference[] = [];
  let total = 0;
  for (const [ruleId, expected] of plain) {
    const found = new Set(engine.get(ruleId) ?? []);
    const wanted = new Set(expected);
    for (const index of wanted) {
      if (found.has(index)) continue;
      total += 1;
      if (differences.length < limit) differences.push({ ruleId, index, engine: false, plain: true });
    }
    for (const index of found) {
      if (wanted.has(index)) continue;
      total += 1;
      if (differences.length < limit) differences.push({ ruleId, index, engine: true, plain: false });
    }
  }
  return { differences, total };
}
