// The throughput benchmark: six figures, each against a floor measured in the same run.
//
//   npm run bench -- [--events 200000] [--storm-events 50000] [--concurrency 4] [--smoke] [--queries]
//                    [--python] [--rules 100] [--no-scaling] [--http-runs 3]
//
//   1. engine: decode + normalise + evaluate 100 CloudTrail rules, against bare JSON.parse (same process)
//   2. HTTP ingest: the real server, against a bare node:http server that only parses (same client),
//      alternating, three times each
//   3. hit storm: hits stored per second, against bare better-sqlite3 inserts of the same rows
//   4. queries: the last `npm run bench:queries` result (a fresh one with --queries)
//   5. the server's peak resident memory during part 2, against the bare server's
//   6. Python rules: the last `npm run bench:python` result (a fresh one with --python): Panther's
//      CloudTrail rules in the sandboxed workers, against an empty worker round trip
//
// and an engine scaling table: 10 to 10,000 generated rules, each against JSON.parse (engine-scaling.ts).
//
// Exits 1 on an error or a wrong answer (hits that differ from the plain evaluator, the corpus's
// expectation or the engine); a figure below its target is printed as FAIL and leaves the exit code 0.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { RuleSet } from '../src/engine/rule-set.js';
import { measureBareSqliteInsert } from './bare-sqlite-insert.js';
import { loadCorpus, profileCorpus, sharedPathsOrSay, type Corpus } from './corpus.js';
import {
  collectEngineHits,
  collectPlainHits,
  compareHits,
  measureEngineThroughput,
} from './engine-throughput.js';
import {
  measureEngineScaling,
  SCALING_SIZES,
  SCALING_TARGETS,
  scalingTable,
  WATCHING_RULES,
} from './engine-scaling.js';
import { storedRows, STORM_RULE_ID, STORM_RULE_YAML, stormHits } from './hit-storm.js';
import { measureBareHttp, measureServerIngest, type FloorRun, type ServerRun } from './http-ingest.js';
import { ndjsonBatches, type MemoryReport } from './http-load.js';
import { type Check, count, median, type PartResult, progressLog, ratioPart, table } from './report.js';
import { buildRulePack, SEED_RULE_ID, type RulePack } from './rule-pack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench-build/bench → the checkout. */
const repoRoot = resolve(here, '..', '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');
/**
 * The server compiled by the same `tsc -p tsconfig.bench.json` as the engine of part 1, so that every
 * part measures the same source, even when dist/src is older.
 */
const serverMain = join(here, '..', 'src', 'main.js');
const bareServer = join(here, 'bare-http-server.js');
const queriesBench = join(here, 'queries.bench.js');
const pythonBench = join(here, 'python.bench.js');
/** Part 6's target: the catalogue's CloudTrail rules in Python (issue 16). */
const PYTHON_TARGET = 20_000;

const RULES_IN_SET = 100;
const BATCH_SIZE = 1000;
const ENGINE_RUNS = 3;
const TARGETS = { engine: 0.7, http: 0.6, storm: 0.5, memoryMb: 400, queryP95Ms: 50 };
/** Part 2's target with a large set (`--rules 1000` and more): issue "Speed at scale". */
const HTTP_TARGET_AT_THOUSAND_RULES = 0.4;

const started = Date.now();
const log = progressLog(started);

interface Options {
  events: number;
  stormEvents: number;
  concurrency: number;
  smoke: boolean;
  queries: boolean;
  /** Run `npm run bench:python` now (minutes) rather than report its last result. */
  python: boolean;
  /** Keep the temporary directory (rule files, databases) for a closer look, e.g. under a profiler. */
  keepWork: boolean;
  /** Rules in the set of parts 1, 2 and 5 (100 by default). */
  rules: number;
  scaling: boolean;
  /** Alternating floor and server runs of part 2. */
  httpRuns: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      'storm-events': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      smoke: { type: 'boolean', default: false },
      queries: { type: 'boolean', default: false },
      python: { type: 'boolean', default: false },
      'keep-work': { type: 'boolean', default: false },
      rules: { type: 'string', default: String(RULES_IN_SET) },
      'no-scaling': { type: 'boolean', default: false },
      'http-runs': { type: 'string' },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`--${name} must be a positive whole number, not ${text}`);
    return value;
  };
  const events = positive('events', values.events ?? (values.smoke ? '5000' : '200000'));
  const storm = positive('storm-events', values['storm-events'] ?? (values.smoke ? '2000' : '50000'));
  if (storm > events)
    log(`the hit storm takes the whole corpus: ${count(events)} events, not ${count(storm)}`);
  return {
    events,
    stormEvents: Math.min(storm, events),
    concurrency: positive('concurrency', values.concurrency),
    smoke: values.smoke,
    queries: values.queries,
    python: values.python,
    keepWork: values['keep-work'],
    rules: positive('rules', values.rules),
    scaling: !values['no-scaling'],
    httpRuns: positive('http-runs', values['http-runs'] ?? (values.smoke ? '1' : '3')),
  };
}

function describeMachine() {
  const cpu = cpus();
  const sqlite = new Database(':memory:');
  const sqliteVersion = (sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  sqlite.close();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    sqlite: sqliteVersion,
  };
}

/** The untimed pass: the generated rules against the plain evaluator, the seed rule against the corpus. */
function checkEngine(pack: RulePack, corpus: Corpus, ruleSet: RuleSet) {
  const engine = collectEngineHits(corpus.lines, ruleSet);
  const plain = collectPlainHits(
    corpus.lines,
    pack.generated.map((rule) => rule.description),
  );
  const comparison = compareHits(engine.byRule, plain, 10);
  const generatedHits = [...plain.values()].reduce((sum, hits) => sum + hits.length, 0);
  const seedHits = engine.byRule.get(SEED_RULE_ID)?.length ?? 0;
  const expected = corpus.expected.externalPrincipal;
  const firstRejected = engine.rejected[0];
  const checks: Check[] = [
    {
      name: 'engine = plain evaluator (generated rules, rule id + event index)',
      ok: comparison.total === 0,
      detail:
        comparison.total === 0
          ? `${pack.generated.length} rules, ${count(generatedHits)} hits, identical`
          : `${comparison.total} differences; first: ${comparison.differences
              .map(
                (d) => `${d.ruleId} event ${d.index} (${d.engine ? 'engine only' : 'plain evaluator only'})`,
              )
              .join('; ')}`,
    },
    {
      name: `engine hits of ${SEED_RULE_ID} = corpus externalPrincipal`,
      ok: seedHits === expected,
      detail: `${seedHits} hits, expected ${expected}`,
    },
    {
      name: 'every corpus event accepted by prepareEvent',
      ok: firstRejected === undefined,
      detail:
        firstRejected === undefined
          ? `${count(corpus.lines.length)} events`
          : `${engine.rejected.length} refused; first: event ${firstRejected.index}: ${firstRejected.error}`,
    },
    {
      name: 'no rule errors while evaluating',
      ok: engine.ruleErrors.size === 0,
      detail:
        engine.ruleErrors.size === 0
          ? 'none'
          : [...engine.ruleErrors].map(([id, errors]) => `${id}: ${errors}`).join(', '),
    },
  ];
  const hitsByRule = new Map([...engine.byRule].map(([id, hits]) => [id, hits.length]));
  return { checks, hitsByRule, generatedHits };
}

/** Parts 2 and 5: the corpus through the bare floor server, then through the real one with the 100 rules. */
async function measureIngest(
  work: string,
  pack: RulePack,
  corpus: Corpus,
  options: Options,
  span: { since: Date; until: Date },
  engineHits: ReadonlyMap<string, number>,
) {
  const rulesDir = join(work, 'rules');
  mkdirSync(rulesDir);
  for (const file of pack.files) writeFileSync(join(rulesDir, file.name), file.text);
  const bodies = ndjsonBatches(corpus.lines, BATCH_SIZE);
  // Floor and server alternate, so that a change in the machine's load reaches both; medians are compared.
  const bareRuns: FloorRun[] = [];
  const serverRuns: ServerRun[] = [];
  for (let run = 1; run <= options.httpRuns; run++) {
    const of = `${run}/${options.httpRuns}`;
    log(
      `part 2, run ${of}: bare node:http floor, ${bodies.length} batches of ${BATCH_SIZE}, ${options.concurrency} in flight`,
    );
    const bare = await measureBareHttp(bareServer, bodies, options.events, options.concurrency);
    bareRuns.push(bare);
    log(`  bare server: ${count(bare.eventsPerSecond)} events/s`);
    log(`part 2, run ${of}: the server (fresh SQLite database, ${pack.definitions.length} rules)`);
    const serverDir = join(work, `server-${run}`);
    mkdirSync(serverDir);
    const server = await measureServerIngest({
      serverMain,
      workDir: serverDir,
      rulesDir,
      bodies,
      events: options.events,
      concurrency: options.concurrency,
      ruleIds: pack.definitions.map((rule) => rule.ruleId),
      ...span,
    });
    serverRuns.push(server);
    log(`  server: ${count(server.eventsPerSecond)} events/s, ${count(server.hitsStored)} hits stored`);
    if (server.enabledByBenchmark.length > 0 && run === 1)
      log(
        `  enabled through PATCH /v1/rules (Enabled: false in their files): ${server.enabledByBenchmark.join(', ')}`,
      );
  }
  const bareRate = median(bareRuns.map((run) => run.eventsPerSecond));
  const serverRate = median(serverRuns.map((run) => run.eventsPerSecond));
  const server = serverRuns[serverRuns.length - 1] as ServerRun;
  const runByRun = serverRuns
    .map((run, index) => (run.eventsPerSecond / (bareRuns[index] as FloorRun).eventsPerSecond).toFixed(2))
    .join(', ');

  const ingest = ratioPart({
    part: '2. HTTP ingest (NDJSON, 1000/batch)',
    measured: serverRate,
    unit: 'events/s',
    floor: bareRate,
    floorLabel: 'events/s (bare node:http)',
    target: options.rules >= 1000 ? HTTP_TARGET_AT_THOUSAND_RULES : TARGETS.http,
    note:
      `medians of ${options.httpRuns} alternating runs; server ${serverRuns.map((run) => count(run.eventsPerSecond)).join(', ')}; ` +
      `floor ${bareRuns.map((run) => count(run.eventsPerSecond)).join(', ')}; run by run ${runByRun}; ` +
      `${count(server.hitsStored)} hits stored a run; ${options.concurrency} requests in flight on keep-alive connections`,
    details: {
      seconds: { server: serverRuns.map((run) => run.seconds), floor: bareRuns.map((run) => run.seconds) },
      accepted: server.accepted,
      rejected: server.rejected,
      hitsStored: server.hitsStored,
      duplicateHits: server.duplicateHits,
      enabledByBenchmark: server.enabledByBenchmark,
    },
  });
  // The highest peak of any run: the limit is on what the server may ever take.
  const peakOf = (runs: readonly { memory: MemoryReport }[]) => {
    const peaks = runs.flatMap((run) => (run.memory.peakMb === undefined ? [] : [run.memory.peakMb]));
    return peaks.length === runs.length ? Math.max(...peaks) : undefined;
  };
  const peak = peakOf(serverRuns);
  const barePeak = peakOf(bareRuns);
  const memory: PartResult = {
    part: '5. server peak RSS during part 2',
    measured: peak === undefined ? 'n/a (no /proc)' : `${peak.toFixed(0)} MB (VmHWM)`,
    floor: barePeak === undefined ? '—' : `${barePeak.toFixed(0)} MB (bare node:http)`,
    ratio: peak === undefined || barePeak === undefined ? undefined : peak / barePeak,
    target: `< ${TARGETS.memoryMb} MB`,
    pass: peak === undefined ? undefined : peak < TARGETS.memoryMb,
    note: `VmRSS sampled every 100 ms; the highest of ${options.httpRuns} runs`,
    details: { server: serverRuns.map((run) => run.memory), floor: bareRuns.map((run) => run.memory) },
  };

  // Every run must store what the engine found; the first run that does not is the one reported.
  const differingIn = (run: ServerRun) =>
    pack.definitions
      .map((rule) => rule.ruleId)
      .filter((ruleId) => (run.hitsByRule.get(ruleId) ?? 0) !== (engineHits.get(ruleId) ?? 0));
  const seedHitsOf = (run: ServerRun) => run.hitsByRule.get(SEED_RULE_ID) ?? 0;
  const seedRun = serverRuns.find((run) => seedHitsOf(run) !== corpus.expected.externalPrincipal) ?? server;
  const rulesRun = serverRuns.find((run) => differingIn(run).length > 0 || run.rejected > 0) ?? server;
  const differing = differingIn(rulesRun);
  const checks: Check[] = [
    {
      name: `server hits of ${SEED_RULE_ID} = corpus externalPrincipal (every run)`,
      ok: seedHitsOf(seedRun) === corpus.expected.externalPrincipal,
      detail: `${seedHitsOf(seedRun)} hits (GET /v1/stats), expected ${corpus.expected.externalPrincipal}`,
    },
    {
      name: `server hits per rule = engine hits per rule (all ${pack.definitions.length} rules, every run)`,
      ok: differing.length === 0 && rulesRun.rejected === 0,
      detail:
        differing.length === 0
          ? `${count(rulesRun.hitsStored)} hits, ${rulesRun.rejected} events rejected`
          : differing
              .slice(0, 10)
              .map(
                (id) =>
                  `${id}: server ${rulesRun.hitsByRule.get(id) ?? 0}, engine ${engineHits.get(id) ?? 0}`,
              )
              .join('; '),
    },
  ];
  return { parts: [ingest, memory], checks, serverHits: server.hitsByRule };
}

/** Part 3: only the storm rule on a fresh database, then the same rows straight into SQLite. */
async function measureHitStorm(
  work: string,
  corpus: Corpus,
  options: Options,
  span: { since: Date; until: Date },
) {
  const lines = corpus.lines.slice(0, options.stormEvents);
  const rulesDir = join(work, 'storm-rules');
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'storm.yml'), STORM_RULE_YAML);
  const serverDir = join(work, 'storm-server');
  mkdirSync(serverDir);
  log(`part 3: hit storm through the server, ${count(lines.length)} events, every one a hit`);
  const storm = await measureServerIngest({
    serverMain,
    workDir: serverDir,
    rulesDir,
    bodies: ndjsonBatches(lines, BATCH_SIZE),
    events: lines.length,
    concurrency: options.concurrency,
    ruleIds: [STORM_RULE_ID],
    ...span,
  });
  const stored = storedRows(storm.databaseFile);
  const hitsPerSecond = storm.hitsStored / storm.seconds;
  log(`  server: ${count(hitsPerSecond)} hits/s (${count(stored.fieldRows)} field rows)`);

  log('part 3: bare better-sqlite3 floor, the same rows');
  const floor = measureBareSqliteInsert(join(work, 'floor.sqlite'), stormHits(lines), BATCH_SIZE);
  const floorRate = floor.hits / floor.seconds;
  log(`  bare SQLite: ${count(floorRate)} hit rows/s (${count(floor.fieldRows)} field rows)`);
  const perHit = (rows: number, hits: number) => (rows / Math.max(1, hits)).toFixed(1);
  const part = ratioPart({
    part: '3. hit storm (hits stored)',
    measured: hitsPerSecond,
    unit: 'hits/s',
    floor: floorRate,
    floorLabel: 'hit rows/s (bare SQLite)',
    target: TARGETS.storm,
    note: `${count(lines.length)} events; field rows per hit: server ${perHit(stored.fieldRows, stored.hits)}, floor ${perHit(floor.fieldRows, floor.hits)}`,
    details: {
      events: lines.length,
      seconds: { server: storm.seconds, floor: floor.seconds },
      fieldRows: { server: stored.fieldRows, floor: floor.fieldRows },
    },
  });
  const check: Check = {
    name: 'hit storm: every event stored as one hit',
    ok: storm.hitsStored === lines.length && stored.hits === lines.length,
    detail: `${storm.hitsStored} hits answered, ${stored.hits} in the database, ${lines.length} events`,
  };
  return { part, check };
}

function runQueriesBench(): Promise<void> {
  return runChildBench(queriesBench, 'queries');
}

/** Another benchmark of this build, its output shown; exit 1 (a target missed) is a figure, not a failure. */
function runChildBench(script: string, name: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', script], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    // It exits 1 when a filter misses its target: that is a figure, not a failure of this run.
    child.once('exit', (code) =>
      code === 0 || code === 1
        ? resolvePromise()
        : reject(new Error(`the ${name} benchmark exited with ${code ?? 'a signal'}`)),
    );
  });
}

/** Part 6 from bench/results/python.json: Python rules against an empty worker round trip. */
function pythonPart(ranNow: boolean): PartResult {
  const file = join(resultsDir, 'python.json');
  const base = {
    part: '6. Python rules (catalogue, CloudTrail)',
    target: `≥ ${count(PYTHON_TARGET)} events/s`,
  };
  if (!existsSync(file))
    return {
      ...base,
      measured: 'not measured',
      floor: '—',
      ratio: undefined,
      pass: undefined,
      note: 'no bench/results/python.json: run `npm run bench:python` or `npm run bench -- --python`',
      details: {},
    };
  const result = JSON.parse(readFileSync(file, 'utf8')) as {
    events: number;
    rules: number;
    workers?: number;
    floor: number;
    measured: number;
    at?: string;
  };
  const source = ranNow ? 'measured in this run (--python)' : 'from the last `npm run bench:python`';
  return {
    ...base,
    part: `6. Python rules (${result.rules}, ${count(result.events)} events)`,
    measured: `${count(result.measured)} events/s`,
    floor: `${count(result.floor)} events/s (empty round trip)`,
    ratio: result.measured / result.floor,
    pass: result.measured >= PYTHON_TARGET,
    note: `${source}${result.at ? ` (${result.at})` : ''}; ${result.workers ?? 1} workers`,
    details: result,
  };
}

/** Part 4 from bench/results/queries.json: the worst p95 of the documented filters. */
function queriesPart(ranNow: boolean): PartResult {
  const file = join(resultsDir, 'queries.json');
  const base = {
    part: '4. queries at 1M hits (worst p95)',
    floor: '—',
    ratio: undefined,
    target: `p95 < ${TARGETS.queryP95Ms} ms`,
  };
  if (!existsSync(file))
    return {
      ...base,
      measured: 'not measured',
      pass: undefined,
      note: 'no bench/results/queries.json: run `npm run bench:queries` or `npm run bench -- --queries`',
      details: {},
    };
  const result = JSON.parse(readFileSync(file, 'utf8')) as {
    hits: number;
    at: string;
    machine: string;
    rows: { filter: string; p50: number; p95: number }[];
  };
  // Stats and coverage are reports without a target, as in the queries benchmark itself.
  const filters = result.rows.filter(
    (row) => row.filter.startsWith('hits:') || row.filter.startsWith('alerts:'),
  );
  const worst = filters.reduce((a, b) => (b.p95 > a.p95 ? b : a));
  const source = ranNow
    ? 'measured in this run (--queries)'
    : `from the last \`npm run bench:queries\` (${result.at})`;
  return {
    ...base,
    part: `4. queries at ${count(result.hits)} hits (worst p95)`,
    measured: `${worst.p95.toFixed(1)} ms (${worst.filter})`,
    pass: filters.every((row) => row.p95 < TARGETS.queryP95Ms),
    note: `${source}; ${result.machine}`,
    details: { source, at: result.at, hits: result.hits, rows: result.rows },
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const machine = describeMachine();
  const machineLine = `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}, SQLite ${machine.sqlite}`;
  process.stdout.write(`Machine: ${machineLine}\n\n`);

  const shared = sharedPathsOrSay(repoRoot, 'bench');
  if (shared === undefined) return 1;

  log(`corpus: ${count(options.events)} CloudTrail events (${shared.corpusTool})`);
  const corpus = await loadCorpus(shared, join(resultsDir, 'corpus'), options.events);
  const megabytes = (corpus.bytes / 1e6).toFixed(0);
  log(
    `corpus ${corpus.built ? 'built' : 'reused'}: ${corpus.file} (${megabytes} MB, ${corpus.expected.externalPrincipal} external-principal events)`,
  );
  const { profile, ...span } = profileCorpus(corpus.lines);
  const pack = buildRulePack({
    builtinDir: join(repoRoot, 'rules'),
    conformanceDir: shared.conformanceValid,
    profile,
    total: options.rules,
    // A larger set is drawn like the scaling table's: its realistic mix, with as many rules watching
    // calls the corpus makes (the built-in and conformance rules come first, 7 of them).
    generator:
      options.rules > RULES_IN_SET
        ? { mix: 'realistic', watchedShare: Math.min(1, WATCHING_RULES / (options.rules - 7)) }
        : undefined,
  });
  const byOrigin = (origin: string) => [...pack.origins.values()].filter((value) => value === origin).length;
  log(
    `rules: ${pack.definitions.length} (${byOrigin('built-in')} built-in, ${byOrigin('conformance')} conformance, ${byOrigin('generated')} generated from ${profile.calls.length} eventSource/eventName pairs); every generated rule loads and passes its tests`,
  );
  const ruleSet = RuleSet.compile(pack.definitions);

  // Correctness first: a fast wrong answer is not a result.
  log('correctness: engine hits against the plain evaluator and the corpus expectation');
  const engine = checkEngine(pack, corpus, ruleSet);
  const checks: Check[] = [...engine.checks];
  for (const check of checks.filter((failed) => !failed.ok)) log(`MISMATCH ${check.name}: ${check.detail}`);

  log(`part 1: engine against JSON.parse, a warm-up then ${ENGINE_RUNS} runs of each, alternating`);
  const throughput = measureEngineThroughput(corpus.lines, ruleSet, ENGINE_RUNS, log);
  const parts: PartResult[] = [
    ratioPart({
      part: `1. engine (decode + normalise + ${ruleSet.size} rules)`,
      measured: throughput.engine.median,
      unit: 'events/s',
      floor: throughput.floor.median,
      floorLabel: 'events/s (JSON.parse)',
      // A set the size of a scaling row has that row's target (0.5 at 1,000 rules).
      target: SCALING_TARGETS[options.rules] ?? TARGETS.engine,
      note: `medians of ${ENGINE_RUNS} runs; engine ${throughput.engine.runs.map(count).join(', ')}; JSON.parse ${throughput.floor.runs.map(count).join(', ')}`,
      details: { runs: { engine: throughput.engine.runs, floor: throughput.floor.runs } },
    }),
  ];

  if (options.scaling)
    log(`engine scaling: ${SCALING_SIZES.map(count).join(', ')} generated rules, each checked, then timed`);
  const scaling = !options.scaling
    ? []
    : options.smoke
      ? measureEngineScaling(corpus.lines, profile, log, [10, 100], 1)
      : measureEngineScaling(corpus.lines, profile, log);
  for (const row of scaling.filter((each) => each.differences > 0))
    checks.push({
      name: `engine = plain evaluator at ${count(row.rules)} generated rules`,
      ok: false,
      detail: `${row.differences} differences`,
    });
  if (scaling.length > 0 && scaling.every((row) => row.differences === 0))
    checks.push({
      name: 'engine = plain evaluator at every scaling size (rule id + event index)',
      ok: true,
      detail: scaling.map((row) => `${count(row.rules)} rules: ${count(row.hits)} hits`).join('; '),
    });

  let serverHits = new Map<string, number>();
  const work = mkdtempSync(join(tmpdir(), 'tripline-bench-'));
  try {
    const ingest = await measureIngest(work, pack, corpus, options, span, engine.hitsByRule);
    parts.push(...ingest.parts);
    checks.push(...ingest.checks);
    serverHits = ingest.serverHits;
    const storm = await measureHitStorm(work, corpus, options, span);
    parts.push(storm.part);
    checks.push(storm.check);
  } finally {
    if (options.keepWork) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  if (options.queries) {
    log('part 4: npm run bench:queries (a million hits; several minutes)');
    await runQueriesBench();
  }
  parts.push(queriesPart(options.queries));
  if (options.python) {
    log("part 6: npm run bench:python (the catalogue's CloudTrail rules in Python; a few minutes)");
    await runChildBench(pythonBench, 'Python rules');
  }
  parts.push(pythonPart(options.python));
  parts.sort((a, b) => a.part.localeCompare(b.part));

  const generatedWithHits = pack.generated.filter(
    (rule) => (engine.hitsByRule.get(rule.description.ruleId) ?? 0) > 0,
  ).length;
  const seconds = (Date.now() - started) / 1000;
  const summary = [
    `Throughput benchmark: ${count(options.events)} CloudTrail events (${megabytes} MB), hit storm of ${count(options.stormEvents)} events, ${ruleSet.size} rules`,
    `Machine: ${machineLine}`,
    '',
    table(parts),
    '',
    ...parts.map((part) => `${part.part.split(' ')[0] ?? ''} ${part.note ?? ''}`),
    '',
    ...(scaling.length === 0
      ? []
      : [
          'Engine scaling (generated CloudTrail rules; ratio to JSON.parse of the same events in the same run):',
          '',
          scalingTable(scaling),
          '',
        ]),
    'Checks:',
    ...checks.map((check) => `  ${check.ok ? 'ok      ' : 'MISMATCH'} ${check.name}: ${check.detail}`),
    '',
    'Hits of the built-in and conformance rules (engine / server):',
    ...pack.definitions
      .filter((rule) => pack.origins.get(rule.ruleId) !== 'generated')
      .map(
        (rule) =>
          `  ${rule.ruleId} (${pack.origins.get(rule.ruleId) ?? ''}${rule.enabled ? '' : ', Enabled: false in its file'}): ${count(engine.hitsByRule.get(rule.ruleId) ?? 0)} / ${count(serverHits.get(rule.ruleId) ?? 0)}`,
      ),
    `Generated rules: ${pack.generated.length}, ${generatedWithHits} with at least one hit, ${count(engine.generatedHits)} hits in all`,
    '',
    `Run time: ${seconds.toFixed(0)} s`,
  ].join('\n');
  process.stdout.write(`${summary}\n`);

  mkdirSync(resultsDir, { recursive: true });
  const latestFile = join(resultsDir, 'latest.json');
  const latest = {
    at: new Date().toISOString(),
    machine,
    options: { ...options, batchSize: BATCH_SIZE, rules: ruleSet.size },
    corpus: { file: corpus.file, bytes: corpus.bytes, expected: corpus.expected },
    table: table(parts),
    parts,
    scaling,
    checks,
    rules: pack.definitions.map((rule) => ({
      ruleId: rule.ruleId,
      origin: pack.origins.get(rule.ruleId),
      language: rule.detection.language,
      engineHits: engine.hitsByRule.get(rule.ruleId) ?? 0,
      serverHits: serverHits.get(rule.ruleId) ?? 0,
    })),
    seconds,
  };
  writeFileSync(latestFile, `${JSON.stringify(latest, null, 2)}\n`);
  process.stdout.write(`\nwritten to ${latestFile}\n`);

  const failed = checks.filter((check) => !check.ok);
  if (failed.length === 0) return 0;
  process.stderr.write(
    `\nbench: ${failed.length} correctness check(s) failed:\n${failed.map((check) => `  ${check.name}: ${check.detail}`).join('\n')}\n`,
  );
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
