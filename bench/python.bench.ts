// Python rules: events/s with the catalogue's CloudTrail rules (../shared/panther-analysis, with its global
// helpers and data models) on the benchmark corpus, against a floor measured in the same run: the same
// events, in the same requests, through a worker that answers without evaluating anything (the pipe, the
// JSON both ways and the worker's loop). The YAML engine with the built-in pack (the seed rule as condition
// lines) runs the same events for comparison.
//
//   npm run bench:python -- [--events 200000] [--runs 3] [--batch 1000] [--workers 2] [--inflight 2]
//
// Each pass decodes and prepares the events as ingest does, then sends them to the workers `--batch` at a
// time, `--inflight` batches at once (each batch shared out among the workers, as ingest does). Exits 1
// on an error or a wrong answer: the seed rule must find exactly the corpus's external principals.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareEvent } from '../src/engine/events.js';
import { loadRulePaths } from '../src/engine/pack.js';
import { MemoryRuleCache } from '../src/engine/python/memory-rule-cache.js';
import { sharedPythonRuntime } from '../src/engine/python/python-runtime.js';
import { DEFAULT_SANDBOX_OPTIONS, sandboxProblem } from '../src/engine/python/sandbox.js';
import { backendRuleIdOf, type BackendDetection } from '../src/engine/formats/rule-format.js';
import { RuleSet, type BackendWork } from '../src/engine/rule-set.js';
import { loadCorpus, sharedPathsOrSay } from './corpus.js';
import { count, markdownTable, median, progressLog } from './report.js';
import { SEED_RULE_ID } from './rule-pack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench-build/bench → the checkout. */
const repoRoot = resolve(here, '..', '..', '..');
const TARGET_EVENTS_PER_SECOND = 20_000;

interface Pass {
  seconds: number;
  hits: number;
  seedHits: number;
  errors: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      runs: { type: 'string', default: '3' },
      batch: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
      inflight: { type: 'string', default: '2' },
    },
  });
  return {
    events: Number(values.events),
    runs: Number(values.runs),
    batch: Number(values.batch),
    workers: Number(values.workers),
    inflight: Number(values.inflight),
  };
}

/**
 * Decodes and prepares `lines` as ingest does; gives each batch's backend work to `send`, with up to
 * `inflight` batches sent and not yet answered (as from that many forwarders at once): the next batch
 * is prepared while the workers evaluate.
 */
async function pass(
  lines: readonly string[],
  ruleSet: RuleSet,
  batch: number,
  inflight: number,
  send: (work: BackendWork[]) => Promise<{ hits: number; seedHits: number }>,
): Promise<Pass> {
  const started = process.hrtime.bigint();
  const receivedAt = new Date();
  let hits = 0;
  let seedHits = 0;
  let errors = 0;
  const onError = () => (errors += 1);
  const pending = new Set<Promise<void>>();
  for (let start = 0; start < lines.length; start += batch) {
    const work: BackendWork[] = [];
    for (const line of lines.slice(start, start + batch)) {
      const prepared = prepareEvent(JSON.parse(line), { receivedAt, deferNormalisation: true });
      if (!prepared.ok) continue;
      const item = ruleSet.backendWork(prepared.event, prepared.logType, onError, prepared.deferred);
      if (item) work.push(item);
    }
    const sent: Promise<void> = send(work).then((answered) => {
      hits += answered.hits;
      seedHits += answered.seedHits;
      pending.delete(sent);
    });
    pending.add(sent);
    if (pending.size >= inflight) await Promise.race(pending);
  }
  await Promise.all(pending);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, hits, seedHits, errors };
}

/** The YAML engine on the same lines: decode, prepare, evaluate, in this process. */
function yamlPass(lines: readonly string[], ruleSet: RuleSet): Pass {
  const started = process.hrtime.bigint();
  const receivedAt = new Date();
  let hits = 0;
  let seedHits = 0;
  for (const line of lines) {
    const prepared = prepareEvent(JSON.parse(line), { receivedAt, deferNormalisation: true });
    if (!prepared.ok) continue;
    for (const hit of ruleSet.evaluate(prepared.event, prepared.logType, undefined, prepared.deferred)) {
      hits += 1;
      if (hit.ruleId === SEED_RULE_ID) seedHits += 1;
    }
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, hits, seedHits, errors: 0 };
}

async function main(): Promise<number> {
  const { events, runs, batch, workers, inflight } = options();
  const log = progressLog();
  const shared = sharedPathsOrSay(repoRoot, 'bench:python');
  if (!shared) return 1;
  const problem = sandboxProblem(DEFAULT_SANDBOX_OPTIONS);
  if (problem !== undefined) {
    process.stderr.write(`bench:python: ${problem}\n`);
    return 1;
  }
  const catalogue = join(shared.root, 'panther-analysis');
  const corpus = await loadCorpus(shared, join(repoRoot, 'bench', 'results', 'corpus'), events);
  log(`${count(corpus.lines.length)} CloudTrail events${corpus.built ? ' (corpus built now)' : ''}`);

  const loaded = await loadRulePaths([
    join(catalogue, 'rules', 'aws_cloudtrail_rules'),
    join(catalogue, 'global_helpers'),
    join(catalogue, 'data_models'),
  ]);
  const definitions = loaded.rules.filter((rule) => rule.enabled && rule.analysisType === 'rule');
  const python = sharedPythonRuntime();
  python.configure({ workers });
  python.setLibrary(loaded.library);
  python.useCache(new MemoryRuleCache().handle);
  const ruleSet = RuleSet.compile(definitions);
  const report = await python.loadReport();
  const loadErrors = Object.keys(report.ruleErrors).length;
  const guarded = Object.keys(report.ruleGuards).length;
  log(`${ruleSet.size} Python rules loaded (${guarded} with guards, ${loadErrors} that do not load)`);

  const builtin = await loadRulePaths([join(repoRoot, 'rules')]);
  const yamlRules = RuleSet.compile(builtin.rules);

  const evaluate = async (work: BackendWork[]) => {
    let hits = 0;
    let seedHits = 0;
    for (const found of await ruleSet.evaluateInBackends(work)) {
      hits += found.length;
      seedHits += found.filter((hit) => hit.ruleId === SEED_RULE_ID).length;
    }
    return { hits, seedHits };
  };
  const roundTrip = async (work: BackendWork[]) => {
    await python.roundTrip(
      work.map((item) => ({
        event: item.event,
        ruleIds: item.rules.map((rule) => backendRuleIdOf(rule.ruleId, rule.detection as BackendDetection)),
      })),
    );
    return { hits: 0, seedHits: 0 };
  };

  // A warm-up of each on the first events: workers started, modules loaded, code optimised.
  const warmUp = corpus.lines.slice(0, Math.min(5_000, corpus.lines.length));
  await pass(warmUp, ruleSet, batch, inflight, roundTrip);
  await pass(warmUp, ruleSet, batch, inflight, evaluate);
  yamlPass(warmUp, yamlRules);

  const floorRuns: Pass[] = [];
  const pythonRuns: Pass[] = [];
  const yamlRuns: Pass[] = [];
  for (let run = 1; run <= runs; run++) {
    floorRuns.push(await pass(corpus.lines, ruleSet, batch, inflight, roundTrip));
    pythonRuns.push(await pass(corpus.lines, ruleSet, batch, inflight, evaluate));
    yamlRuns.push(yamlPass(corpus.lines, yamlRules));
    const rate = (result: Pass | undefined) => count(corpus.lines.length / (result?.seconds ?? Infinity));
    log(
      `run ${run}/${runs}: floor ${rate(floorRuns.at(-1))}, Python rules ${rate(pythonRuns.at(-1))}, YAML engine ${rate(yamlRuns.at(-1))} events/s`,
    );
  }
  python.close();

  const rate = (results: Pass[]) => median(results.map((result) => corpus.lines.length / result.seconds));
  const floor = rate(floorRuns);
  const measured = rate(pythonRuns);
  const yaml = rate(yamlRuns);
  const last = pythonRuns.at(-1) as Pass;
  const rows = [
    ['empty worker round trip (floor)', count(floor), '', ''],
    [
      `Python rules (${ruleSet.size})`,
      count(measured),
      (measured / floor).toFixed(2),
      `${count(last.hits)} hits, ${count(last.errors)} rule errors`,
    ],
    [
      `YAML engine (built-in pack, ${yamlRules.size} rule)`,
      count(yaml),
      (yaml / floor).toFixed(2),
      `${count(yamlRuns.at(-1)?.hits ?? 0)} hits`,
    ],
  ];
  process.stdout.write(
    `Python rules: ${count(corpus.lines.length)} CloudTrail events, batches of ${batch} (${inflight} in flight), ${workers} worker${workers === 1 ? '' : 's'}; median of ${runs}\n` +
      `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores\n\n` +
      `${markdownTable(['', 'events/s', 'ratio to the floor', ''], rows)}\n\n` +
      `Target: at least ${count(TARGET_EVENTS_PER_SECOND)} events/s with the Python rules: ${measured >= TARGET_EVENTS_PER_SECOND ? 'PASS' : 'FAIL'}\n`,
  );
  const seedOk = pythonRuns.every((result) => result.seedHits === corpus.expected.externalPrincipal);
  const yamlSeedOk = yamlRuns.every((result) => result.seedHits === corpus.expected.externalPrincipal);
  process.stdout.write(
    `Check: the seed rule's Python body finds the corpus's ${count(corpus.expected.externalPrincipal)} external principals: ${seedOk ? 'ok' : 'WRONG'}; its condition lines: ${yamlSeedOk ? 'ok' : 'WRONG'}\n`,
  );
  const resultsDir = join(repoRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'python.json'),
    `${JSON.stringify({ at: new Date().toISOString(), events: corpus.lines.length, batch, inflight, workers, rules: ruleSet.size, guarded, floor, measured, yaml, runs: { floorRuns, pythonRuns, yamlRuns } }, null, 2)}\n`,
  );
  return seedOk && yamlSeedOk && loadErrors === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench:python: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
