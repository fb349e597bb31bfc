// PostgreSQL ingest against SQLite's, in the same run: the main benchmark's 100 CloudTrail rules, the
// corpus sent through HTTP (NDJSON batches of 1,000, 4 in flight) into the real server on a fresh SQLite
// file and on a fresh PostgreSQL database, alternating, three times each; the medians are compared.
// The server counts the SQL statements it sends (bench/statement-counter.ts, loaded into it only here).
//
//   npm run bench:postgres -- [--events 200000] [--runs 3] [--concurrency 4]
//
// PostgreSQL: TRIPLINE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) is where a
// new database is created for each run, and dropped after it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { measureServerIngest, type ServerRun } from './http-ingest.js';
import type { ChildServer } from './http-load.js';
import { ndjsonBatches } from './http-load.js';
import { count, markdownTable, median, progressLog } from './report.js';
import { buildRulePack } from './rule-pack.js';
import type { StatementSnapshot } from './statement-counter.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');
const serverMain = join(here, '..', 'src', 'main.js');
const counterModule = join(here, 'statement-counter.js');

const RULES_IN_SET = 100;
const BATCH_SIZE = 1000;
const TARGET_RATIO = 0.9;
const POSTGRES_ADMIN_URL =
  process.env.TRIPLINE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Kind = 'sqlite' | 'postgres';

const log = progressLog();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** What one load sent to the database, from the counter's snapshots before and after it. */
interface StatementReport {
  executed: number;
  byKind: Map<string, number>;
  /** Distinct SQL texts executed during the load. */
  distinctTexts: number;
  /** better-sqlite3 prepares during the load (statements not in TypeORM's cache). */
  prepared: number;
}

interface RunResult {
  kind: Kind;
  run: ServerRun;
  statements: StatementReport;
  alerts: AlertSummary;
}

/** A label for a statement: its verb and table (`INSERT hits`, `UPDATE alerts`, `advisory lock`, …). */
function kindOf(sql: string): string {
  const text = sql.trim();
  if (/pg_advisory/i.test(text)) return 'advisory lock';
  const write = /\b(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?/i.exec(text);
  if (write) return `${(write[1] ?? '').split(' ')[0]?.toUpperCase()} ${write[2]}`;
  if (/^(WITH|SELECT)\b/i.test(text)) {
    // The first table read, past the names the statement gives its own rows (WITH "x", AS "x").
    const own = new Set([...text.matchAll(/\b(?:WITH|AS)\s+"(\w+)"/gi)].map((match) => match[1]));
    const table = [...text.matchAll(/\b(?:FROM|JOIN)\s+"(\w+)"/gi)]
      .map((match) => match[1])
      .find((name) => !own.has(name));
    return `SELECT ${table ?? '(no table)'}`;
  }
  return (text.split(/\s+/)[0] ?? '').toUpperCase();
}

async function snapshot(server: ChildServer, file: string): Promise<StatementSnapshot> {
  if (existsSync(file)) unlinkSync(file);
  server.child.kill('SIGUSR2');
  for (let waited = 0; !existsSync(file); waited += 20) {
    if (waited > 10_000) throw new Error(`the server wrote no statement counts to ${file}`);
    await sleep(20);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as StatementSnapshot;
}

function difference(before: StatementSnapshot, after: StatementSnapshot): StatementReport {
  const byKind = new Map<string, number>();
  let executed = 0;
  let distinctTexts = 0;
  let prepared = 0;
  for (const [text, counts] of Object.entries(after.texts)) {
    const earlier = before.texts[text] ?? { executed: 0, prepared: 0 };
    const runs = counts.executed - earlier.executed;
    prepared += counts.prepared - earlier.prepared;
    if (runs === 0) continue;
    executed += runs;
    distinctTexts += 1;
    const kind = kindOf(text);
    byKind.set(kind, (byKind.get(kind) ?? 0) + runs);
  }
  return { executed, byKind, distinctTexts, prepared };
}

interface AlertSummary {
  alerts: number;
  /** Sum of hit_count over all alerts. */
  alertHits: number;
}

function sqliteAlerts(file: string): AlertSummary {
  const database = new Database(file, { readonly: true });
  try {
    const row = database
      .prepare('SELECT COUNT(*) AS alerts, COALESCE(SUM("hit_count"), 0) AS hits FROM "alerts"')
      .get() as { alerts: number; hits: number };
    return { alerts: row.alerts, alertHits: row.hits };
  } finally {
    database.close();
  }
}

async function onPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function postgresAlerts(url: string): Promise<AlertSummary> {
  return onPostgres(url, async (client) => {
    const result = await client.query<{ alerts: string; hits: string }>(
      'SELECT COUNT(*) AS alerts, COALESCE(SUM("hit_count"), 0) AS hits FROM "alerts"',
    );
    const row = result.rows[0];
    return { alerts: Number(row?.alerts), alertHits: Number(row?.hits) };
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  const events = Number(values.events);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  if (![events, runs, concurrency].every((value) => Number.isInteger(value) && value > 0)) {
    process.stderr.write('bench:postgres: --events, --runs and --concurrency take positive whole numbers\n');
    return 2;
  }
  const shared = sharedPathsOrSay(repoRoot, 'bench:postgres');
  if (shared === undefined) return 1;
  try {
    await onPostgres(POSTGRES_ADMIN_URL, (client) => client.query('SELECT 1'));
  } catch (error) {
    process.stderr.write(
      `bench:postgres: no PostgreSQL at ${POSTGRES_ADMIN_URL} (TRIPLINE_BENCH_POSTGRES_URL): ${String(error)}\n`,
    );
    return 1;
  }

  const corpus = await loadCorpus(shared, join(resultsDir, 'corpus'), events);
  const { profile, ...span } = profileCorpus(corpus.lines);
  const pack = buildRulePack({
    builtinDir: join(repoRoot, 'rules'),
    conformanceDir: shared.conformanceValid,
    profile,
    total: RULES_IN_SET,
  });
  const work = mkdtempSync(join(tmpdir(), 'tripline-bench-pg-'));
  const rulesDir = join(work, 'rules');
  mkdirSync(rulesDir);
  for (const file of pack.files) writeFileSync(join(rulesDir, file.name), file.text);
  const bodies = ndjsonBatches(corpus.lines, BATCH_SIZE);
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  log(
    `${count(events)} events, ${bodies.length} batches of ${BATCH_SIZE}, ${concurrency} in flight, ${pack.definitions.length} rules; load average ${load}`,
  );

  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= runs; round += 1) {
      // Alternating, and each round starts with the database the last one ended with.
      const order: Kind[] = round % 2 === 1 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite'];
      for (const kind of order) {
        const serverDir = join(work, `${kind}-${round}`);
        mkdirSync(serverDir);
        const countsFile = join(serverDir, 'statements.json');
        let databaseUrl: string;
        if (kind === 'postgres') {
          const name = `tripline_bench_${randomBytes(6).toString('hex')}`;
          await onPostgres(POSTGRES_ADMIN_URL, (client) => client.query(`CREATE DATABASE "${name}"`));
          const url = new URL(POSTGRES_ADMIN_URL);
          url.pathname = `/${name}`;
          databaseUrl = url.toString();
        } else databaseUrl = `sqlite:${join(serverDir, 'tripline.sqlite')}`;
        let before: StatementSnapshot = { texts: {} };
        let after: StatementSnapshot = { texts: {} };
        try {
          const run = await measureServerIngest({
            serverMain,
            workDir: serverDir,
            rulesDir,
            bodies,
            events,
            concurrency,
            ruleIds: pack.definitions.map((rule) => rule.ruleId),
            ...span,
            databaseUrl,
            env: {
              NODE_OPTIONS: `--import ${counterModule}`,
              TRIPLINE_BENCH_STATEMENTS_FILE: countsFile,
            },
            aroundLoad: {
              before: async (server) => {
                before = await snapshot(server, countsFile);
              },
              after: async (server) => {
                after = await snapshot(server, countsFile);
              },
            },
          });
          const alerts =
            kind === 'postgres'
              ? await postgresAlerts(databaseUrl)
              : sqliteAlerts(join(serverDir, 'tripline.sqlite'));
          const statements = difference(before, after);
          results.push({ kind, run, statements, alerts });
          log(
            `${kind} round ${round}: ${count(run.eventsPerSecond)} events/s, ${count(run.hitsStored)} hits, ${count(alerts.alerts)} alerts, ${(statements.executed / bodies.length).toFixed(1)} statements per batch, ${statements.distinctTexts} distinct texts, ${statements.prepared} prepared`,
          );
        } finally {
          if (kind === 'postgres') {
            const name = new URL(databaseUrl).pathname.slice(1);
            await onPostgres(POSTGRES_ADMIN_URL, (client) =>
              client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
            );
          }
          rmSync(serverDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const of = (kind: Kind) => results.filter((result) => result.kind === kind);
  const rates = (kind: Kind) => of(kind).map((result) => result.run.eventsPerSecond);
  const sqliteRate = median(rates('sqlite'));
  const postgresRate = median(rates('postgres'));
  const ratio = postgresRate / sqliteRate;
  const hitEvents = (of('sqlite')[0]?.run.hitsStored ?? 0) / events;
  const loadAfter = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

  const rows = (['sqlite', 'postgres'] as const).map((kind) => {
    const last = of(kind).at(-1) as RunResult;
    const perBatch = (value: number) => (value / bodies.length).toFixed(1);
    return [
      kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      count(median(rates(kind))),
      rates(kind).map(count).join(', '),
      perBatch(last.statements.executed),
      String(last.statements.distinctTexts),
      kind === 'sqlite' ? String(last.statements.prepared) : '—',
    ];
  });
  process.stdout.write(
    `${markdownTable(
      [
        'database',
        'events/s (median)',
        'runs',
        'statements per batch',
        'distinct SQL texts',
        'SQLite prepares',
      ],
      rows,
    )}\n\nPostgreSQL / SQLite: ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO.toFixed(2)}: ${ratio >= TARGET_RATIO ? 'PASS' : 'FAIL'})\n`,
  );
  process.stdout.write(
    `Hits stored: ${count(of('sqlite')[0]?.run.hitsStored ?? 0)} (${(hitEvents * 100).toFixed(1)} per 100 events); load average before ${load}, after ${loadAfter}\n\n`,
  );
  const kinds = [...new Set(results.flatMap((result) => [...result.statements.byKind.keys()]))].sort();
  const lastOf = (kind: Kind) => (of(kind).at(-1) as RunResult).statements.byKind;
  process.stdout.write(
    `${markdownTable(
      ['statement', 'SQLite per batch', 'PostgreSQL per batch'],
      kinds.map((kind) => [
        kind,
        ((lastOf('sqlite').get(kind) ?? 0) / bodies.length).toFixed(2),
        ((lastOf('postgres').get(kind) ?? 0) / bodies.length).toFixed(2),
      ]),
    )}\n`,
  );

  // Both databases must have stored the same: hits per rule, and alerts holding every alerting hit.
  const reference = of('sqlite')[0] as RunResult;
  const problems: string[] = [];
  for (const result of results) {
    const differing = pack.definitions
      .map((rule) => rule.ruleId)
      .filter(
        (ruleId) => (result.run.hitsByRule.get(ruleId) ?? 0) !== (reference.run.hitsByRule.get(ruleId) ?? 0),
      );
    if (differing.length > 0) problems.push(`${result.kind}: hits differ for ${differing.join(', ')}`);
    if (result.alerts.alertHits !== reference.alerts.alertHits)
      problems.push(
        `${result.kind}: alerts hold ${result.alerts.alertHits} hits, SQLite's first run ${reference.alerts.alertHits}`,
      );
    if (result.run.rejected !== 0) problems.push(`${result.kind}: ${result.run.rejected} events rejected`);
  }
  process.stdout.write(
    problems.length === 0
      ? `\nCheck passed: every run stored the same hits per rule, and its alerts hold ${count(reference.alerts.alertHits)} hits (${results.map((result) => `${result.kind} ${count(result.alerts.alerts)}`).join(', ')} alerts)\n`
      : `\nCheck FAILED:\n${problems.join('\n')}\n`,
  );
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'postgres-ingest.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        events,
        loadAverage: { before: load, after: loadAfter },
        ratio,
        results: results.map((result) => ({
          kind: result.kind,
          eventsPerSecond: result.run.eventsPerSecond,
          hitsStored: result.run.hitsStored,
          alerts: result.alerts,
          statements: { ...result.statements, byKind: Object.fromEntries(result.statements.byKind) },
        })),
      },
      null,
      2,
    ),
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
