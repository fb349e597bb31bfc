// Where an event's time goes in the engine, stage by stage, at each size of the scaling table's rule
// sets (the same generator and corpus):
//
//   npm run bench:stages -- [--sizes 100,1000,3000] [--events 50000] [--rounds 8]
//
// Each stage is the one before it plus one step: JSON.parse alone; then prepareEvent (log type, event
// time); then the index's candidates; then RuleSet.evaluate (the candidates' detections, and for hits
// normalisation, titles, dedup strings and output fields). The loop of each stage runs `rounds` times,
// the stages in turn, and each is timed in CPU time of this process (process.cpuUsage), which other
// programs on the machine stretch far less than wall time; the least of its rounds is its figure, and the
// difference between consecutive stages is what the step costs an event. A tool for finding where the
// time goes, beside the scaling table's ratios, not a target of its own.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareEvent } from '../src/engine/events.js';
import { RuleSet } from '../src/engine/rule-set.js';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { scalingRuleSet } from './engine-scaling.js';
import { count, markdownTable } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

type Stage = 'parse' | 'prepare' | 'candidates' | 'evaluate';
const STAGES: readonly Stage[] = ['parse', 'prepare', 'candidates', 'evaluate'];

function runStage(stage: Stage, lines: readonly string[], ruleSet: RuleSet): number {
  const receivedAt = new Date();
  let kept = 0;
  for (const line of lines) {
    const value: unknown = JSON.parse(line);
    if (stage === 'parse') {
      if (typeof value === 'object') kept += 1;
      continue;
    }
    const prepared = prepareEvent(value, { receivedAt, deferNormalisation: true });
    if (!prepared.ok) continue;
    if (stage === 'prepare') kept += 1;
    else if (stage === 'candidates') kept += ruleSet.candidatesFor(prepared.event, prepared.logType).length;
    else kept += ruleSet.evaluate(prepared.event, prepared.logType, undefined, prepared.deferred).length;
  }
  return kept;
}

/** CPU nanoseconds per event of each stage: the least of `rounds` runs. */
function measureStages(lines: readonly string[], ruleSet: RuleSet, rounds: number): Record<Stage, number> {
  const best: Record<Stage, number> = {
    parse: Infinity,
    prepare: Infinity,
    candidates: Infinity,
    evaluate: Infinity,
  };
  // The first round warms every stage up and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const stage of STAGES) {
      const started = process.cpuUsage();
      runStage(stage, lines, ruleSet);
      const used = process.cpuUsage(started);
      const nanoseconds = ((used.user + used.system) * 1000) / lines.length;
      if (round > 0) best[stage] = Math.min(best[stage], nanoseconds);
    }
  }
  return best;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { sizes: { type: 'string' }, events: { type: 'string' }, rounds: { type: 'string' } },
  });
  const sizes = (values.sizes ?? '100,1000,3000').split(',').map(Number);
  const events = Number(values.events ?? '50000');
  const rounds = Number(values.rounds ?? '8');
  if ([...sizes, events, rounds].some((value) => !Number.isInteger(value) || value <= 0)) {
    process.stderr.write('bench:stages: --sizes, --events and --rounds take positive whole numbers\n');
    return 2;
  }
  const shared = sharedPathsOrSay(repoRoot, 'bench:stages');
  if (shared === undefined) return 1;
  const corpus = await loadCorpus(shared, join(repoRoot, 'bench', 'results', 'corpus'), 200_000);
  const { profile } = profileCorpus(corpus.lines);
  const lines = corpus.lines.slice(0, events);
  const rows: string[][] = [];
  for (const size of sizes) {
    const ruleSet = RuleSet.compile(scalingRuleSet(profile, size).definitions);
    const candidates = runStage('candidates', lines, ruleSet) / lines.length;
    const ns = measureStages(lines, ruleSet, rounds);
    const step = (stage: Stage, before: Stage) => (ns[stage] - ns[before]).toFixed(0);
    rows.push([
      count(size),
      ns.parse.toFixed(0),
      step('prepare', 'parse'),
      step('candidates', 'prepare'),
      step('evaluate', 'candidates'),
      ns.evaluate.toFixed(0),
      (ns.parse / ns.evaluate).toFixed(2),
      candidates.toFixed(1),
    ]);
    process.stderr.write(`${count(size)} rules measured over ${count(lines.length)} events\n`);
  }
  process.stdout.write(
    `${markdownTable(
      [
        'rules',
        'JSON.parse ns',
        '+ prepare',
        '+ candidates',
        '+ evaluate',
        'total ns',
        'parse / total',
        'candidates/event',
      ],
      rows,
    )}\n`,
  );
  return 0;
}

process.exitCode = await main();
