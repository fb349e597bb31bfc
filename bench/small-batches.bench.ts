// Small batches: HTTP ingest of 10-event NDJSON batches with 32 requests in flight, against the bare
// node:http floor in the same run.
//
//   npm run bench:small-batches -- [--events 30000] [--batch 10] [--in-flight 32] [--clients 4] [--runs 3]
//                                  [--cpu-prof DIR] [--server PATH/main.js]
//
// --cpu-prof DIR writes a V8 CPU profile of each server run to DIR (node --cpu-prof in the server's child);
// --server runs another build of the server (e.g. an older commit's dist/src/main.js) instead of this one.
//
// The load comes from several client threads (worker_threads, `--in-flight` requests shared between
// them), each reporting how busy its event loop was: a client busy near all the time would bound the
// floor, and the figure would then say nothing of the server. The server runs the main benchmark's 100
// rules (bench/rule-pack.ts) on a fresh SQLite database each run; floor and server alternate, and the
// medians of the runs are compared. Checks: every request answered 200, every event accepted, the hits
// per rule equal the engine's, and every batch answered is in the database after the server has stopped.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { RuleSet } from '../src/engine/rule-set.js';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { collectEngineHits } from './engine-throughput.js';
import {
  BENCH_ADMIN_KEY,
  benchServerEnv,
  cpuProfileOptions,
  enableAll,
  hitsByRule,
  numberField,
} from './http-ingest.js';
import { ndjsonBatches, processCpuSeconds, startChild, stopChild, type ChildServer } from './http-load.js';
import { count, markdownTable, median, progressLog } from './report.js';
import { buildRulePack } from './rule-pack.js';
import type { ClientReport, ClientTask } from './small-batches-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const defaultServerMain = join(here, '..', 'src', 'main.js');
const bareServer = join(here, 'bare-http-server.js');
const clientScript = join(here, 'small-batches-client.js');

const TARGET = 0.7;
const RULES_IN_SET = 100;
const HEADERS = {
  authorization: `Bearer ${BENCH_ADMIN_KEY}`,
  'content-type': 'application/x-ndjson',
};

const log = progressLog();

interface LoadRun {
  seconds: number;
  answers: unknown[];
  /** Each client thread's event-loop utilisation under load. */
  clientUtilization: number[];
  /** CPU seconds the server process used during the load (all its threads); undefined without /proc. */
  serverCpuSeconds?: number;
}

/** The load, with the CPU time the server's process spent on it. */
async function loadMeasuringCpu(
  server: ChildServer,
  bodies: readonly Buffer[],
  inFlight: number,
  clients: number,
): Promise<LoadRun> {
  const pid = server.child.pid ?? 0;
  const before = processCpuSeconds(pid);
  const run = await loadFromClients(server.port, bodies, inFlight, clients);
  const after = processCpuSeconds(pid);
  return {
    ...run,
    serverCpuSeconds: before === undefined || after === undefined ? undefined : after - before,
  };
}

/** Splits the bodies round-robin over `clients` threads and posts them all; the wall time of the whole. */
async function loadFromClients(
  port: number,
  bodies: readonly Buffer[],
  inFlight: number,
  clients: number,
): Promise<LoadRun> {
  const shares = Array.from({ length: clients }, (_, client) => ({
    indexes: [] as number[],
    inFlight: Math.floor(inFlight / clients) + (client < inFlight % clients ? 1 : 0),
  }));
  bodies.forEach((_, index) => shares[index % clients]?.indexes.push(index));
  const workers = shares.map((share) => {
    const task: ClientTask = {
      port,
      path: '/v1/events',
      bodies: share.indexes.map((index) => bodies[index] as Buffer),
      headers: HEADERS,
      inFlight: share.inFlight,
    };
    return new Worker(clientScript, { workerData: task });
  });
  try {
    // Every thread loaded and waiting before the clock starts.
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((ready, fail) => {
            worker.once('message', () => ready());
            worker.once('error', fail);
          }),
      ),
    );
    const clock = process.hrtime.bigint();
    const reports = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<ClientReport>((done, fail) => {
            worker.once('message', (report: ClientReport) => done(report));
            worker.once('error', fail);
            worker.postMessage('go');
          }),
      ),
    );
    const seconds = Number(process.hrtime.bigint() - clock) / 1e9;
    const answers = new Array<unknown>(bodies.length);
    reports.forEach((report, client) =>
      shares[client]?.indexes.forEach((index, position) => (answers[index] = report.answers[position])),
    );
    return { seconds, answers, clientUtilization: reports.map((report) => report.utilization) };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

const sum = (answers: readonly unknown[], key: string) =>
  answers.reduce<number>((total, answer) => total + numberField(answer, key), 0);

interface Options {
  events: number;
  batch: number;
  inFlight: number;
  clients: number;
  runs: number;
  /** Where the server's CPU profiles go, if anywhere. */
  profileDir: string | undefined;
  serverMain: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '30000' },
      batch: { type: 'string', default: '10' },
      'in-flight': { type: 'string', default: '32' },
      clients: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
      'cpu-prof': { type: 'string' },
      server: { type: 'string' },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`--${name} must be a positive whole number, not ${text}`);
    return value;
  };
  return {
    events: positive('events', values.events),
    batch: positive('batch', values.batch),
    inFlight: positive('in-flight', values['in-flight']),
    clients: positive('clients', values.clients),
    runs: positive('runs', values.runs),
    profileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    serverMain: resolve(values.server ?? defaultServerMain),
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const shared = sharedPathsOrSay(repoRoot, 'bench:small-batches');
  if (shared === undefined) return 1;
  const corpus = await loadCorpus(shared, join(repoRoot, 'bench', 'results', 'corpus'), options.events);
  const { profile, since, until } = profileCorpus(corpus.lines);
  const pack = buildRulePack({
    builtinDir: join(repoRoot, 'rules'),
    conformanceDir: shared.conformanceValid,
    profile,
    total: RULES_IN_SET,
  });
  const engineHits = collectEngineHits(corpus.lines, RuleSet.compile(pack.definitions)).byRule;
  const bodies = ndjsonBatches(corpus.lines, options.batch);
  log(
    `${count(options.events)} events in ${count(bodies.length)} batches of ${options.batch}, ${options.inFlight} in flight from ${options.clients} client threads, ${pack.definitions.length} rules`,
  );

  const work = mkdtempSync(join(tmpdir(), 'tripline-small-batches-'));
  const rulesDir = join(work, 'rules');
  mkdirSync(rulesDir);
  for (const file of pack.files) writeFileSync(join(rulesDir, file.name), file.text);
  const floorRuns: LoadRun[] = [];
  const serverRuns: LoadRun[] = [];
  const problems: string[] = [];
  const loads: number[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      loads.push(loadavg()[0] ?? 0);
      const bare = await startChild(bareServer, {}, '/');
      try {
        const floor = await loadMeasuringCpu(bare, bodies, options.inFlight, options.clients);
        if (sum(floor.answers, 'received') !== options.events)
          problems.push(`run ${run}: the bare server parsed ${sum(floor.answers, 'received')} events`);
        floorRuns.push(floor);
        log(
          `run ${run} floor: ${count(bodies.length / floor.seconds)} requests/s; client threads busy ${floor.clientUtilization.map((u) => u.toFixed(2)).join(', ')}`,
        );
      } finally {
        await stopChild(bare);
      }

      const serverDir = join(work, `server-${run}`);
      mkdirSync(serverDir);
      const databaseFile = join(serverDir, 'tripline.sqlite');
      const server = await startChild(
        options.serverMain,
        benchServerEnv(`sqlite:${databaseFile}`, rulesDir),
        '/readyz',
        {
          cwd: serverDir,
          nodeOptions: cpuProfileOptions(options.profileDir, 250),
        },
      );
      let stored: Map<string, number>;
      let load: LoadRun;
      try {
        await enableAll(
          server,
          pack.definitions.map((rule) => rule.ruleId),
        );
        load = await loadMeasuringCpu(server, bodies, options.inFlight, options.clients);
        stored = await hitsByRule(server, since, until);
      } finally {
        await stopChild(server);
      }
      serverRuns.push(load);
      log(
        `run ${run} server: ${count(bodies.length / load.seconds)} requests/s; client threads busy ${load.clientUtilization.map((u) => u.toFixed(2)).join(', ')}`,
      );
      const accepted = sum(load.answers, 'accepted');
      if (accepted !== options.events) problems.push(`run ${run}: ${accepted} of ${options.events} accepted`);
      const differing = pack.definitions.filter(
        (rule) => (stored.get(rule.ruleId) ?? 0) !== (engineHits.get(rule.ruleId)?.length ?? 0),
      );
      if (differing.length > 0)
        problems.push(
          `run ${run}: hits differ from the engine's for ${differing.length} rules, e.g. ${differing[0]?.ruleId}`,
        );
      // Every batch answered 200 was committed: its row is there once the server is gone.
      const database = new Database(databaseFile, { readonly: true });
      try {
        const batches = (
          database.prepare('SELECT COUNT(*) AS n FROM "ingest_batches"').get() as { n: number }
        ).n;
        if (batches !== bodies.length)
          problems.push(
            `run ${run}: ${batches} batch rows after the server stopped, ${bodies.length} answered`,
          );
      } finally {
        database.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const perSecond = (runs: readonly LoadRun[], units: number) => runs.map((run) => units / run.seconds);
  const floorRequests = median(perSecond(floorRuns, bodies.length));
  const serverRequests = median(perSecond(serverRuns, bodies.length));
  const busiest = (runs: readonly LoadRun[]) => Math.max(...runs.flatMap((run) => run.clientUtilization));
  const ratio = serverRequests / floorRequests;
  // CPU a request costs the server: far steadier than requests/s on a machine whose load moves.
  const cpuPerRequest = (runs: readonly LoadRun[]) => {
    const seconds = runs.flatMap((run) => (run.serverCpuSeconds === undefined ? [] : [run.serverCpuSeconds]));
    return seconds.length === runs.length ? `${count((median(seconds) * 1e6) / bodies.length)} µs` : 'n/a';
  };
  const row = (name: string, requests: number, runs: readonly LoadRun[]) => [
    name,
    count(requests),
    count(requests * options.batch),
    perSecond(runs, bodies.length).map(count).join(', '),
    busiest(runs).toFixed(2),
    cpuPerRequest(runs),
  ];
  const hits = [...engineHits.values()].reduce((total, each) => total + each.length, 0);
  process.stdout.write(
    [
      `Small batches: ${count(options.events)} CloudTrail events, ${count(bodies.length)} NDJSON batches of ${options.batch}, ${options.inFlight} requests in flight from ${options.clients} client threads, ${pack.definitions.length} rules (${count(hits)} hits); median of ${options.runs}`,
      `Machine: ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores; load average at each run's start ${loads.map((l) => l.toFixed(1)).join(', ')}`,
      '',
      markdownTable(
        ['', 'requests/s', 'events/s', 'runs (requests/s)', 'busiest client thread', 'server CPU a request'],
        [row('bare node:http floor', floorRequests, floorRuns), row('service', serverRequests, serverRuns)],
      ),
      '',
      `ratio ${ratio.toFixed(2)} (target ≥ ${TARGET.toFixed(2)}): ${ratio >= TARGET ? 'PASS' : 'FAIL'}; each run's service / the floor just before it: ${serverRuns
        .map((run, index) => (floorRuns[index] as LoadRun).seconds / run.seconds)
        .map((each) => each.toFixed(2))
        .join(', ')}`,
      problems.length === 0
        ? 'Checks: every request 200, every event accepted, hits per rule = engine, every batch in the database after stop'
        : `MISMATCH:\n  ${problems.join('\n  ')}`,
      '',
    ].join('\n'),
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
