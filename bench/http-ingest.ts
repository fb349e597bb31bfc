// Parts 2, 3 and 5: the real server as a child process, fed NDJSON batches over HTTP by one client, and
// the bare node:http floor fed the same batches by the same client.
import { join } from 'node:path';
import {
  MemorySampler,
  requestJson,
  sendBatches,
  startChild,
  stopChild,
  type ChildServer,
  type MemoryReport,
} from './http-load.js';

/** A fixed admin key for the benchmark's own throwaway databases (40 characters). */
export const BENCH_ADMIN_KEY = 'tripline-bench-admin-key-0123456789abcde';
const AUTHORIZATION = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
const NDJSON_HEADERS = { ...AUTHORIZATION, 'content-type': 'application/x-ndjson' };

export interface FloorRun {
  seconds: number;
  eventsPerSecond: number;
  memory: MemoryReport;
}

export async function measureBareHttp(
  script: string,
  bodies: readonly Buffer[],
  events: number,
  concurrency: number,
): Promise<FloorRun> {
  const server = await startChild(script, {}, '/');
  try {
    const sampler = new MemorySampler(server.child.pid ?? 0);
    const load = await sendBatches(server.port, '/v1/events', bodies, NDJSON_HEADERS, concurrency);
    const memory = sampler.stop();
    const received = load.answers.reduce<number>((sum, answer) => sum + numberField(answer, 'received'), 0);
    if (received !== events) throw new Error(`the bare server parsed ${received} events of ${events}`);
    return { seconds: load.seconds, eventsPerSecond: events / load.seconds, memory };
  } finally {
    await stopChild(server);
  }
}

/** A number the server's answer must hold at `key`; anything else is an error of the run. */
export function numberField(value: unknown, key: string): number {
  const field =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  if (typeof field !== 'number') throw new Error(`expected a number at ${key} in ${JSON.stringify(value)}`);
  return field;
}

export interface ServerRun {
  seconds: number;
  eventsPerSecond: number;
  accepted: number;
  rejected: number;
  hitsStored: number;
  duplicateHits: number;
  /** Hits per rule as the server reports them (GET /v1/stats). */
  hitsByRule: Map<string, number>;
  /** Rules the server had disabled at start and the benchmark enabled through the API. */
  enabledByBenchmark: string[];
  memory: MemoryReport;
  databaseFile: string;
}

export interface ServerOptions {
  serverMain: string;
  /** A fresh directory for the database; the server runs there. */
  workDir: string;
  rulesDir: string;
  bodies: readonly Buffer[];
  events: number;
  concurrency: number;
  /** Every rule that must be loaded and enabled before the load starts. */
  ruleIds: readonly string[];
  /** Event times of the corpus fall in this range (for GET /v1/stats). */
  since: Date;
  until: Date;
  /** Default: a SQLite file in workDir. */
  databaseUrl?: string;
  /** More environment for the server. */
  env?: Record<string, string>;
  /** Called with the ready server just before the first batch is sent, and after the last answer. */
  aroundLoad?: { before(server: ChildServer): Promise<void>; after(server: ChildServer): Promise<void> };
}

interface RuleSummary {
  ruleId: string;
  enabled: boolean;
}

async function listRules(server: ChildServer): Promise<RuleSummary[]> {
  const rules: RuleSummary[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `/v1/rules?limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const answer = await requestJson(server.port, 'GET', path, AUTHORIZATION);
    if (answer.status !== 200)
      throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    const page = answer.body as { items: RuleSummary[]; nextCursor: string | null };
    rules.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return rules;
}

/**
 * Every rule of the pack must run on the server as it runs in the engine: a rule the pack marks
 * `Enabled: false` (some conformance fixtures do) is enabled through the API, not by editing its text.
 */
export async function enableAll(server: ChildServer, ruleIds: readonly string[]): Promise<string[]> {
  const loaded = new Map((await listRules(server)).map((rule) => [rule.ruleId, rule.enabled]));
  const missing = ruleIds.filter((ruleId) => !loaded.has(ruleId));
  if (missing.length > 0)
    throw new Error(`the server did not load ${missing.join(', ')}; its log:\n${server.output()}`);
  const disabled = ruleIds.filter((ruleId) => loaded.get(ruleId) === false);
  for (const ruleId of disabled) {
    const path = `/v1/rules/${encodeURIComponent(ruleId)}`;
    const answer = await requestJson(
      server.port,
      'PATCH',
      path,
      { ...AUTHORIZATION, 'content-type': 'application/json' },
      JSON.stringify({ enabled: true }),
    );
    if (answer.status !== 200)
      throw new Error(`PATCH ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return disabled;
}

export async function hitsByRule(
  server: ChildServer,
  since: Date,
  until: Date,
): Promise<Map<string, number>> {
  const path = `/v1/stats?interval=day&since=${since.toISOString()}&until=${until.toISOString()}`;
  const answer = await requestJson(server.port, 'GET', path, AUTHORIZATION);
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const totals = (answer.body as { totals: { ruleId: string; hits: number }[] }).totals;
  return new Map(totals.map((total) => [total.ruleId, total.hits]));
}

/** What every benchmark server runs with: its database and pack, the admin key, no rate limit, few logs. */
export function benchServerEnv(databaseUrl: string, rulesDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    TRIPLINE_ADMIN_KEY: BENCH_ADMIN_KEY,
    TRIPLINE_BUILTIN_RULES: rulesDir,
    RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: 'warn',
  };
}

/**
 * Node options that make a server write a V8 CPU profile into `directory` when it stops, sampling every
 * `intervalMicros` (V8's default without it); none without a directory. NODE_OPTIONS may not carry them.
 */
export function cpuProfileOptions(directory: string | undefined, intervalMicros?: number): string[] {
  if (directory === undefined || directory === '') return [];
  const interval = intervalMicros === undefined ? [] : [`--cpu-prof-interval=${intervalMicros}`];
  return ['--cpu-prof', `--cpu-prof-dir=${directory}`, ...interval];
}

export async function measureServerIngest(options: ServerOptions): Promise<ServerRun> {
  const databaseFile = join(options.workDir, 'tripline.sqlite');
  const server = await startChild(
    options.serverMain,
    {
      ...benchServerEnv(options.databaseUrl ?? `sqlite:${databaseFile}`, options.rulesDir),
      ...options.env,
    },
    '/readyz',
    // With TRIPLINE_BENCH_SERVER_PROFILE=DIR, each server writes a CPU profile there.
    { cwd: options.workDir, nodeOptions: cpuProfileOptions(process.env.TRIPLINE_BENCH_SERVER_PROFILE, 500) },
  );
  try {
    const enabledByBenchmark = await enableAll(server, options.ruleIds);
    await options.aroundLoad?.before(server);
    const sampler = new MemorySampler(server.child.pid ?? 0);
    const load = await sendBatches(
      server.port,
      '/v1/events',
      options.bodies,
      NDJSON_HEADERS,
      options.concurrency,
    );
    const memory = sampler.stop();
    await options.aroundLoad?.after(server);
    const sum = (key: string) =>
      load.answers.reduce<number>((total, answer) => total + numberField(answer, key), 0);
    const accepted = sum('accepted');
    const rejected = sum('rejectedCount');
    if (accepted + rejected !== options.events)
      throw new Error(`the server answered for ${accepted + rejected} events of ${options.events}`);
    return {
      seconds: load.seconds,
      eventsPerSecond: options.events / load.seconds,
      accepted,
      rejected,
      hitsStored: sum('hits'),
      duplicateHits: sum('duplicateHits'),
      hitsByRule: await hitsByRule(server, options.since, options.until),
      enabledByBenchmark,
      memory,
      databaseFile,
    };
  } finally {
    await stopChild(server);
  }
}
