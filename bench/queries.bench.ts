// Query benchmark: p50 and p95 of every documented hit and alert filter at one million stored hits on
// SQLite, over real HTTP. Target: p95 under 50 ms for each filter.
//
//   npm run bench:queries -- [--hits 1000000] [--db PATH] [--samples 200] [--warmup 20]
//
// The hits are written through the ingest writer (the same SQL, indexes and alert grouping as POST
// /v1/events) from synthetic CloudTrail-like hits; generating a million takes a few minutes, so --db
// keeps the database for later runs.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SYSTEM_ACTOR } from '../src/audit/audit.service.js';
import { createApp } from '../src/app.setup.js';
import { loadConfig } from '../src/config/config.js';
import type { Severity } from '../src/engine/rule.js';
import type { PendingHit } from '../src/ingest/ingest-store.js';
import { RulesService } from '../src/rules/rules.service.js';
import { Database } from '../src/storage/database.service.js';
import { writeBatch } from '../src/storage/hit-writer.js';

const { values } = parseArgs({
  options: {
    hits: { type: 'string', default: '1000000' },
    db: { type: 'string' },
    samples: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
  },
});
const HITS = Number(values.hits);
const SAMPLES = Number(values.samples);
/** Requests per filter sent and not counted first: the database file is far larger than SQLite's cache. */
const WARMUP = Number(values.warmup);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const databaseFile = resolve(values.db ?? join(repoRoot, 'bench', 'results', `queries-${HITS}.sqlite`));
mkdirSync(dirname(databaseFile), { recursive: true });

// A seeded generator, so every run builds the same data.
let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const RULES = 20;
const USERS = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
const IPS = Array.from({ length: 20000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const ACCOUNTS = Array.from({ length: 50 }, (_, i) => String(100000000000 + i));
const EVENT_NAMES = Array.from({ length: 200 }, (_, i) => `Action${i}`);
const SEVERITY_MIX: Severity[] = [
  'Info',
  'Info',
  'Info',
  'Info',
  'Low',
  'Low',
  'Low',
  'Medium',
  'Medium',
  'High',
];
const LOG_TYPES = [
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'AWS.CloudTrail',
  'Okta.SystemLog',
  'GitHub.Audit',
];
const START = Date.UTC(2025, 0, 1);
const SPAN = 30 * 24 * 3600_000;

function ruleSource(index: number): string {
  return `AnalysisType: rule
RuleID: Bench.Rule${index}
LogTypes: [AWS.CloudTrail, Okta.SystemLog, GitHub.Audit]
Severity: Low
DedupPeriodMinutes: 60
Condition: eventName eq "Action${index}"
`;
}

const BENCH_KEY = 'tripline-benchmark-admin-key-0123456789';
const AUTHORIZED = { headers: { authorization: `Bearer ${BENCH_KEY}` } };

/** The 50 ms target is for the documented hit and alert filters; stats and coverage are reports. */
const isFilter = (name: string) => name.startsWith('hits:') || name.startsWith('alerts:');

async function main(): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: `sqlite:${databaseFile}`,
    TRIPLINE_BUILTIN_RULES: '',
    LOG_LEVEL: 'error',
    PORT: '0',
    TRIPLINE_ADMIN_KEY: BENCH_KEY,
    // The benchmark measures queries, not the rate limit.
    RATE_LIMIT_PER_SECOND: '0',
  });
  const app = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const database = app.get(Database);
  const rules = app.get(RulesService);

  const existing = await database.read((manager) =>
    manager.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM hits'),
  );
  let stored = existing[0]?.n ?? 0;
  if (stored < HITS) {
    const versions: { ruleId: string; id: number; version: number }[] = [];
    for (let index = 0; index < RULES; index++) {
      await rules.upsert(ruleSource(index), {
        format: 'yaml',
        ignoreExtraKeys: false,
        storeDisabled: true,
        origin: 'api',
        actor: SYSTEM_ACTOR,
      });
      const [row] = await database.read((manager) =>
        manager.query<{ id: number; version: number }[]>(
          'SELECT id, version FROM rule_versions WHERE rule_id = ? ORDER BY version DESC LIMIT 1',
          [`Bench.Rule${index}`],
        ),
      );
      if (row) versions.push({ ruleId: `Bench.Rule${index}`, id: row.id, version: row.version });
    }
    const started = Date.now();
    while (stored < HITS) {
      const batch: PendingHit[] = [];
      for (let i = 0; i < Math.min(1000, HITS - stored); i++) {
        const rule = pick(versions);
        const user = pick(USERS);
        const ip = pick(IPS);
        const account = pick(ACCOUNTS);
        const eventName = pick(EVENT_NAMES);
        const eventTime = START + Math.floor(random() * SPAN);
        const logType = pick(LOG_TYPES);
        batch.push({
          ruleId: rule.ruleId,
          ruleVersionId: rule.id,
          ruleVersion: rule.version,
          severity: pick(SEVERITY_MIX),
          title: `${eventName} by ${user}`,
          dedupKey: user,
          logType,
          eventTime,
          eventId: null,
          outputFields: { user, ip, account, eventName },
          event: {
            eventName,
            eventTime: new Date(eventTime).toISOString(),
            sourceIPAddress: ip,
            userIdentity: { type: 'IAMUser', userName: user, accountId: account },
            p_log_type: logType,
            p_any_ip_addresses: [ip],
            p_any_aws_account_ids: [account],
          },
          policy: { dedupPeriodMinutes: 60, threshold: 1, createAlert: true },
        });
      }
      await database.write((manager) =>
        writeBatch(
          manager,
          {
            receivedAt: new Date(),
            received: batch.length,
            accepted: batch.length,
            rejected: 0,
            idempotencyKey: null,
          },
          batch,
          new Map(),
        ),
      );
      stored += batch.length;
      if (stored % 100_000 === 0)
        process.stderr.write(`  generated ${stored} hits (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
    await database.write((manager) => manager.query('ANALYZE'));
  }

  const alertIds = await database.read((manager) =>
    manager.query<{ id: number }[]>('SELECT id FROM alerts ORDER BY random() LIMIT 500'),
  );
  const day = () => {
    const since = START + Math.floor(random() * (SPAN - 24 * 3600_000));
    return `since=${new Date(since).toISOString()}&until=${new Date(since + 24 * 3600_000).toISOString()}`;
  };
  const rule = () => `ruleId=Bench.Rule${Math.floor(random() * RULES)}`;
  const filters: [string, () => string][] = [
    ['hits: newest page', () => '/v1/hits'],
    ['hits: ruleId', () => `/v1/hits?${rule()}`],
    ['hits: severity', () => `/v1/hits?severity=${pick(['Info', 'Low', 'Medium', 'High'])}`],
    ['hits: severity (two)', () => '/v1/hits?severity=High,Medium'],
    ['hits: logType', () => `/v1/hits?logType=${pick(['AWS.CloudTrail', 'Okta.SystemLog', 'GitHub.Audit'])}`],
    ['hits: alertId', () => `/v1/hits?alertId=${pick(alertIds).id}`],
    ['hits: since/until (a day)', () => `/v1/hits?${day()}`],
    ['hits: field (user)', () => `/v1/hits?field.user=${pick(USERS)}`],
    ['hits: field (p_any_ip_addresses)', () => `/v1/hits?field.p_any_ip_addresses=${pick(IPS)}`],
    ['hits: field (account, common)', () => `/v1/hits?field.account=${pick(ACCOUNTS)}`],
    [
      'hits: two fields',
      () => `/v1/hits?field.account=${pick(ACCOUNTS)}&field.eventName=${pick(EVENT_NAMES)}`,
    ],
    ['hits: ruleId + severity + a day', () => `/v1/hits?${rule()}&severity=Low&${day()}`],
    ['hits: ruleId + field (user)', () => `/v1/hits?${rule()}&field.user=${pick(USERS)}`],
    ['hits: limit 1000', () => '/v1/hits?limit=1000'],
    ['alerts: open, newest', () => '/v1/alerts'],
    ['alerts: ruleId', () => `/v1/alerts?${rule()}`],
    ['alerts: severity + a day', () => `/v1/alerts?severity=High&${day()}`],
    ['alerts: one with its hits', () => `/v1/alerts/${pick(alertIds).id}`],
    ['stats: a day by hour', () => `/v1/stats?interval=hour&${day()}`],
    [
      'stats: 30 days by day',
      () => `/v1/stats?since=${new Date(START).toISOString()}&until=${new Date(START + SPAN).toISOString()}`,
    ],
    ['coverage: a day', () => `/v1/coverage?${day()}`],
  ];

  const rows: { filter: string; p50: number; p95: number; max: number; items: number }[] = [];
  for (const [, path] of filters) {
    for (let i = 0; i < WARMUP; i++) await (await fetch(`${base}${path()}`, AUTHORIZED)).arrayBuffer();
  }
  for (const [name, path] of filters) {
    const timings: number[] = [];
    let items = 0;
    for (let i = 0; i < SAMPLES; i++) {
      let url = path();
      // Half of the samples read a later page, through the cursor of the first.
      const started = process.hrtime.bigint();
      let response = await fetch(`${base}${url}`, AUTHORIZED);
      let body = (await response.json()) as { items?: unknown[]; nextCursor?: string | null };
      let elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (i % 2 === 1 && body.nextCursor) {
        url = `${url}${url.includes('?') ? '&' : '?'}cursor=${body.nextCursor}`;
        const again = process.hrtime.bigint();
        response = await fetch(`${base}${url}`, AUTHORIZED);
        body = (await response.json()) as typeof body;
        elapsed = Number(process.hrtime.bigint() - again) / 1e6;
      }
      if (response.status !== 200) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
      items += body.items?.length ?? 1;
      timings.push(elapsed);
    }
    timings.sort((a, b) => a - b);
    const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))] ?? 0;
    rows.push({
      filter: name,
      p50: at(0.5),
      p95: at(0.95),
      max: timings.at(-1) ?? 0,
      items: Math.round(items / SAMPLES),
    });
  }
  await app.close();

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const table = [
    `Query latency at ${stored.toLocaleString('en')} hits (SQLite, real HTTP, ${SAMPLES} samples each after ${WARMUP} warm-up requests) — ${machine}`,
    '',
    '| filter | p50 ms | p95 ms | max ms | items/page | p95 < 50 ms |',
    '| --- | ---: | ---: | ---: | ---: | :---: |',
    ...rows.map(
      (row) =>
        `| ${row.filter} | ${row.p50.toFixed(1)} | ${row.p95.toFixed(1)} | ${row.max.toFixed(1)} | ${row.items} | ${isFilter(row.filter) ? (row.p95 < 50 ? 'yes' : 'NO') : 'report (no target)'} |`,
    ),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  const out = join(repoRoot, 'bench', 'results', 'queries.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ hits: stored, samples: SAMPLES, machine, at: new Date().toISOString(), rows }, null, 2),
  );
  process.stdout.write(`\nwritten to ${out}\n`);
  if (rows.some((row) => isFilter(row.filter) && row.p95 >= 50)) process.exitCode = 1;
}

void main();
