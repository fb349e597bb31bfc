// Start-up with a large built-in pack: seconds from spawning the server to its first 200 from /readyz,
// with 1,000 and 3,000 rules as files of TRIPLINE_BUILTIN_RULES, on a fresh SQLite database and again on
// the same database (the pack already stored, nothing to write). Floor: the same server with an empty
// pack, started in the same run. Target: under 5 s at 3,000 rules, fresh and restarted.
//
//   npm run bench:startup -- [--events 200000] [--sizes 1000,3000] [--runs 3] [--cpu-prof DIR]
//
// --cpu-prof DIR writes a V8 CPU profile of every start to DIR (node --cpu-prof in the child).
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { BENCH_ADMIN_KEY, cpuProfileOptions } from './http-ingest.js';
import { processCpuSeconds, startChild, stopChild } from './http-load.js';
import { count, markdownTable, median, progressLog } from './report.js';
import { buildRulePack } from './rule-pack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench-build/bench → the checkout. */
const repoRoot = resolve(here, '..', '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');
/** The server compiled by the same `tsc -p tsconfig.bench.json` as this file. */
const serverMain = join(here, '..', 'src', 'main.js');

const TARGET_SECONDS = 5;
/** How often /readyz is asked while the server starts: the figures' resolution. */
const POLL_MS = 10;

const log = progressLog();

/** CPU seconds a process has used so far, all its threads (Linux: this benchmark needs /proc). */
function cpuSeconds(pid: number): number {
  const seconds = processCpuSeconds(pid);
  if (seconds === undefined) throw new Error(`no /proc/${pid}/stat: the start-up benchmark needs Linux`);
  return seconds;
}

interface StartFigure {
  seconds: number;
  /**
   * CPU seconds the server used until it was ready: what the start costs whatever else the machine
   * runs (a busy machine stretches the wall-clock figure, not this one).
   */
  cpuSeconds: number;
  rules: number;
  versions: number;
}

/** Seconds from spawn to /readyz 200, and what the database holds once it is ready. */
async function timeStart(
  workDir: string,
  rulesDir: string,
  profileDir: string | undefined,
): Promise<StartFigure> {
  const databaseFile = join(workDir, 'tripline.sqlite');
  const env: Record<string, string> = {
    DATABASE_URL: `sqlite:${databaseFile}`,
    TRIPLINE_ADMIN_KEY: BENCH_ADMIN_KEY,
    TRIPLINE_BUILTIN_RULES: rulesDir,
  };
  const nodeOptions = cpuProfileOptions(profileDir);
  const spawned = performance.now();
  const server = await startChild(serverMain, env, '/readyz', {
    cwd: workDir,
    pollMs: POLL_MS,
    nodeOptions,
  });
  const seconds = (performance.now() - spawned) / 1000;
  const cpu = cpuSeconds(server.child.pid ?? 0);
  try {
    const database = new Database(databaseFile, { readonly: true });
    try {
      const scalar = (sql: string) => (database.prepare(sql).get() as { n: number }).n;
      return {
        seconds,
        cpuSeconds: cpu,
        rules: scalar('SELECT COUNT(*) AS n FROM rules'),
        versions: scalar('SELECT COUNT(*) AS n FROM rule_versions'),
      };
    } finally {
      database.close();
    }
  } finally {
    await stopChild(server);
  }
}

const describe = (start: StartFigure) =>
  `${start.seconds.toFixed(2)} s (CPU ${start.cpuSeconds.toFixed(2)} s)`;

interface SizeResult {
  rules: number;
  fresh: StartFigure[];
  restart: StartFigure[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      sizes: { type: 'string', default: '1000,3000' },
      runs: { type: 'string', default: '3' },
      'cpu-prof': { type: 'string' },
    },
  });
  const events = Number(values.events);
  const sizes = values.sizes.split(',').map(Number);
  const runs = Number(values.runs);
  if ([events, runs, ...sizes].some((value) => !Number.isInteger(value) || value <= 0)) {
    process.stderr.write('bench:startup: --events, --sizes and --runs take positive whole numbers\n');
    return 2;
  }
  const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const shared = sharedPathsOrSay(repoRoot, 'bench:startup');
  if (shared === undefined) return 1;
  const corpus = await loadCorpus(shared, join(resultsDir, 'corpus'), events);
  const { profile } = profileCorpus(corpus.lines);

  const work = mkdtempSync(join(tmpdir(), 'tripline-startup-'));
  try {
    const emptyPack = join(work, 'empty-pack');
    mkdirSync(emptyPack);
    const packs = sizes.map((size) => {
      const pack = buildRulePack({
        builtinDir: join(repoRoot, 'rules'),
        conformanceDir: shared.conformanceValid,
        profile,
        total: size,
      });
      const directory = join(work, `pack-${size}`);
      mkdirSync(directory);
      for (const file of pack.files) writeFileSync(join(directory, file.name), file.text);
      log(`pack of ${size}: ${pack.definitions.length} rules in ${pack.files.length} files (${directory})`);
      return { size, directory, rules: pack.definitions.length };
    });

    const floor: StartFigure[] = [];
    const results: SizeResult[] = packs.map((pack) => ({ rules: pack.rules, fresh: [], restart: [] }));
    let run = 0;
    const freshDirectory = () => {
      run += 1;
      const directory = join(work, `db-${run}`);
      mkdirSync(directory);
      return directory;
    };
    // Runs alternate between the floor and each size, so that a busy moment spreads over all of them.
    for (let round = 1; round <= runs; round++) {
      const empty = await timeStart(freshDirectory(), emptyPack, profileDir);
      floor.push(empty);
      log(`round ${round}: empty pack ${describe(empty)}`);
      for (const [index, pack] of packs.entries()) {
        const result = results[index] as SizeResult;
        const directory = freshDirectory();
        const fresh = await timeStart(directory, pack.directory, profileDir);
        const restart = await timeStart(directory, pack.directory, profileDir);
        // A start that did not store the pack, or a restart that wrote versions again, is not a result.
        if (fresh.rules !== pack.rules || fresh.versions !== pack.rules)
          throw new Error(
            `the server stored ${fresh.rules} rules and ${fresh.versions} versions of a pack of ${pack.rules}`,
          );
        if (restart.rules !== fresh.rules || restart.versions !== fresh.versions)
          throw new Error(
            `the restart changed the stored pack: ${restart.rules} rules and ${restart.versions} versions, not ${fresh.rules} and ${fresh.versions}`,
          );
        result.fresh.push(fresh);
        result.restart.push(restart);
        log(
          `round ${round}: ${count(pack.rules)} rules, fresh ${describe(fresh)}, restart ${describe(restart)}`,
        );
      }
    }

    const floorSeconds = median(floor.map((start) => start.seconds));
    const floorCpu = median(floor.map((start) => start.cpuSeconds));
    const cell = (starts: readonly StartFigure[]) => {
      const seconds = median(starts.map((start) => start.seconds));
      const cpu = median(starts.map((start) => start.cpuSeconds));
      return `${seconds.toFixed(2)} s (${(seconds / floorSeconds).toFixed(1)}×), CPU ${cpu.toFixed(2)} s (${(cpu / floorCpu).toFixed(1)}×)`;
    };
    const verdict = (starts: readonly StartFigure[]) =>
      median(starts.map((start) => start.seconds)) < TARGET_SECONDS ? 'pass' : 'FAIL';
    const rows = results.map((result) => [
      count(result.rules),
      cell(result.fresh),
      cell(result.restart),
      `${floorSeconds.toFixed(2)} s, CPU ${floorCpu.toFixed(2)} s`,
      `< ${TARGET_SECONDS} s`,
      `${verdict(result.fresh)}, ${verdict(result.restart)}`,
    ]);
    const load = loadavg()
      .map((value) => value.toFixed(2))
      .join(', ');
    process.stdout.write(
      `${markdownTable(
        [
          'rules in the pack',
          'fresh database: to /readyz (× floor), CPU (× floor)',
          'restart: to /readyz (× floor), CPU (× floor)',
          'floor: empty pack',
          'target',
          'result',
        ],
        rows,
      )}\n\nmedians of ${runs} runs; load average at the end ${load}\n`,
    );
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'startup.json'),
      `${JSON.stringify({ date: new Date().toISOString(), loadAverage: loadavg(), floor, results }, null, 2)}\n`,
    );
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
