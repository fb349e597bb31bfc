// Read latency while ingest runs: GET /v1/hits answered beside 4 requests ingesting at once, on SQLite
// and on PostgreSQL. Target: p95 under 50 ms during ingest for each query. The floor is the same query on
// the same server and data once ingest is over (idle), measured in the same run. Exits 1 on an error.
//
//   npm run bench:reads -- [--events 200000] [--concurrency 4] [--databases sqlite,postgres]
//                          [--postgres postgres://postgres@127.0.0.1:5432/test] [--server dist/…/main.js]
//                          [--cpu-prof DIR]
//
// The server is the compiled one (dist/bench-build/src/main.js, or --server) with the 100 rules of
// `npm run bench` as its built-in pack. One client sends the corpus as NDJSON batches of 1,000 events,
// `--concurrency` requests in flight on keep-alive connections, while another loop in this process sends
// GET requests one after another (newest page, one rule, one severity, in turn) until the last batch is
// answered; then the same queries again with nothing else running. On PostgreSQL each run gets a new
// database, created through the `--postgres` database and dropped at the end. --cpu-prof DIR writes a V8
// CPU profile of each server to DIR (node --cpu-prof in the server's child).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { BENCH_ADMIN_KEY, benchServerEnv, cpuProfileOptions, enableAll } from './http-ingest.js';
import { ndjsonBatches, requestJson, sendBatches, startChild, stopChild } from './http-load.js';
import { count, markdownTable, progressLog } from './report.js';
import { buildRulePack } from './rule-pack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench-build/bench → the checkout. */
const repoRoot = resolve(here, '..', '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');

const RULES_IN_SET = 100;
const BATCH_SIZE = 1000;
const TARGET_P95_MS = 50;
/** Requests per query sent first and not counted, on the idle server (its caches warm, its code compiled). */
const WARMUP = 10;
const AUTHORIZATION = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
const NDJSON_HEADERS = { ...AUTHORIZATION, 'content-type': 'application/x-ndjson' };

type DatabaseKind = 'sqlite' | 'postgres';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    concurrency: { type: 'string', default: '4' },
    databases: { type: 'string', default: 'sqlite,postgres' },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    server: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const DATABASES = values.databases.split(',').map((kind) => {
  if (kind !== 'sqlite' && kind !== 'postgres')
    throw new Error(`--databases: ${kind} is not sqlite or postgres`);
  return kind;
});
const serverMain = resolve(values.server ?? join(here, '..', 'src', 'main.js'));
const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

const log = progressLog();

interface Query {
  name: string;
  path: string;
}

interface Latencies {
  p50: number;
  p95: number;
  max: number;
  samples: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] ?? NaN;
}

function summarise(samples: readonly number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    max: sorted.at(-1) ?? NaN,
    samples: sorted.length,
  };
}

/** One GET, timed from sending to having the parsed JSON; any answer but 200 stops the run. */
async function timedGet(port: number, query: Query): Promise<number> {
  const start = performance.now();
  const answer = await requestJson(port, 'GET', query.path, AUTHORIZATION);
  const elapsed = performance.now() - start;
  if (answer.status !== 200)
    throw new Error(`GET ${query.path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
  return elapsed;
}

/** The queries in turn, one at a time, until `more()` says to stop or each has `rounds` samples. */
async function sample(
  port: number,
  queries: readonly Query[],
  more: () => boolean,
  rounds = Number.POSITIVE_INFINITY,
): Promise<Map<string, number[]>> {
  const samples = new Map(queries.map((query) => [query.name, [] as number[]]));
  for (let round = 0; round < rounds && more(); round++)
    for (const query of queries) {
      if (!more()) break;
      samples.get(query.name)?.push(await timedGet(port, query));
    }
  return samples;
}

interface DatabaseRun {
  database: DatabaseKind;
  ingestSeconds: number;
  eventsPerSecond: number;
  hitsStored: number;
  during: Map<string, Latencies>;
  idle: Map<string, Latencies>;
  loadAverage: number;
}

/** A new PostgreSQL database beside `adminUrl`'s, and how to drop it again. */
async function newPostgresDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tripline_bench_reads_${process.pid}_${Date.now().toString(36)}`;
  const onAdmin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await onAdmin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

async function measure(
  database: DatabaseKind,
  work: string,
  rulesDir: string,
  ruleIds: readonly string[],
  bodies: readonly Buffer[],
  queries: readonly Query[],
): Promise<DatabaseRun> {
  const serverDir = join(work, `server-${database}`);
  mkdirSync(serverDir);
  const postgres = database === 'postgres' ? await newPostgresDatabase(values.postgres) : undefined;
  try {
    const server = await startChild(
      serverMain,
      benchServerEnv(postgres?.url ?? `sqlite:${join(serverDir, 'tripline.sqlite')}`, rulesDir),
      '/readyz',
      {
        cwd: serverDir,
        nodeOptions: cpuProfileOptions(profileDir, 250),
      },
    );
    try {
      // The pack's rules that say `Enabled: false` run too, as in `npm run bench`.
      await enableAll(server, ruleIds);
      log(`${database}: ingest with ${CONCURRENCY} requests in flight, GET /v1/hits sampled meanwhile`);
      let ingesting = true;
      const ingest = sendBatches(server.port, '/v1/events', bodies, NDJSON_HEADERS, CONCURRENCY).finally(
        () => (ingesting = false),
      );
      const [load, duringSamples] = await Promise.all([
        ingest,
        sample(server.port, queries, () => ingesting),
      ]);
      const loadAverage = loadavg()[0] ?? NaN;
      const hitsStored = load.answers.reduce<number>(
        (sum, answer) => sum + ((answer as { hits?: number }).hits ?? 0),
        0,
      );
      log(
        `  ${count(EVENTS / load.seconds)} events/s, ${count(hitsStored)} hits stored, load ${loadAverage}`,
      );
      const rounds = Math.max(...[...duringSamples.values()].map((list) => list.length));
      log(`${database}: idle, ${WARMUP} warm-up rounds then ${rounds} rounds`);
      await sample(server.port, queries, () => true, WARMUP);
      const idleSamples = await sample(server.port, queries, () => true, rounds);
      const summaries = (samples: Map<string, number[]>) =>
        new Map([...samples].map(([name, list]) => [name, summarise(list)]));
      return {
        database,
        ingestSeconds: load.seconds,
        eventsPerSecond: EVENTS / load.seconds,
        hitsStored,
        during: summaries(duringSamples),
        idle: summaries(idleSamples),
        loadAverage,
      };
    } finally {
      await stopChild(server);
    }
  } finally {
    await postgres?.drop();
  }
}

const ms = (value: number) => value.toFixed(1);

function report(runs: readonly DatabaseRun[], queries: readonly Query[]): string {
  const rows: string[][] = [];
  for (const run of runs)
    for (const query of queries) {
      const during = run.during.get(query.name);
      const idle = run.idle.get(query.name);
      if (!during || !idle) continue;
      rows.push([
        run.database,
        query.name,
        String(during.samples),
        ms(during.p50),
        ms(during.p95),
        ms(during.max),
        ms(idle.p50),
        ms(idle.p95),
        (during.p95 / idle.p95).toFixed(1),
        during.p95 < TARGET_P95_MS ? 'PASS' : 'FAIL',
      ]);
    }
  return markdownTable(
    [
      'database',
      'query',
      'samples',
      'p50 ms (ingest)',
      'p95 ms (ingest)',
      'max ms (ingest)',
      'p50 ms (idle)',
      'p95 ms (idle)',
      'p95 ratio ingest/idle',
      `p95 < ${TARGET_P95_MS} ms`,
    ],
    rows,
  );
}

async function main(): Promise<number> {
  const shared = sharedPathsOrSay(repoRoot, 'bench:reads');
  if (shared === undefined) return 1;
  const corpus = await loadCorpus(shared, join(resultsDir, 'corpus'), EVENTS);
  log(`corpus: ${count(EVENTS)} events (${corpus.file})`);
  const pack = buildRulePack({
    builtinDir: join(repoRoot, 'rules'),
    conformanceDir: shared.conformanceValid,
    profile: profileCorpus(corpus.lines).profile,
    total: RULES_IN_SET,
  });
  const ruleWithHits = pack.generated[0]?.description.ruleId;
  if (ruleWithHits === undefined) throw new Error('the pack has no generated rule');
  const queries: Query[] = [
    { name: 'newest page', path: '/v1/hits?limit=100' },
    { name: 'one rule', path: `/v1/hits?limit=100&ruleId=${encodeURIComponent(ruleWithHits)}` },
    { name: 'severity Medium', path: '/v1/hits?limit=100&severity=Medium' },
  ];
  const work = mkdtempSync(join(tmpdir(), 'tripline-bench-reads-'));
  try {
    const rulesDir = join(work, 'rules');
    mkdirSync(rulesDir);
    for (const file of pack.files) writeFileSync(join(rulesDir, file.name), file.text);
    const bodies = ndjsonBatches(corpus.lines, BATCH_SIZE);
    const runs: DatabaseRun[] = [];
    for (const database of DATABASES)
      runs.push(
        await measure(
          database,
          work,
          rulesDir,
          pack.definitions.map((rule) => rule.ruleId),
          bodies,
          queries,
        ),
      );
    const cpu = cpus();
    process.stdout.write(
      `\n${new Date().toISOString()}: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores, Node ${process.version}; ` +
        `${count(EVENTS)} events in batches of ${BATCH_SIZE}, ${CONCURRENCY} in flight; ${pack.definitions.length} rules; server ${serverMain}\n\n`,
    );
    for (const run of runs)
      process.stdout.write(
        `${run.database}: ingest ${run.ingestSeconds.toFixed(1)} s (${count(run.eventsPerSecond)} events/s with the reads beside it), ` +
          `${count(run.hitsStored)} hits stored, load average ${run.loadAverage.toFixed(1)} at its end\n`,
      );
    process.stdout.write(`\n${report(runs, queries)}\n`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'read-latency.json'),
      `${JSON.stringify(
        runs.map((run) => ({
          ...run,
          during: Object.fromEntries(run.during),
          idle: Object.fromEntries(run.idle),
        })),
        null,
        2,
      )}\n`,
    );
    // A figure under its target is printed as FAIL and is not an error of the run (as in `npm run bench`).
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench:reads: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
