// The service's configuration, read once from the environment and checked before anything starts:
// a bad value stops the start with a message that says which setting and why.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { LOG_TYPE_PATTERN } from '../engine/events.js';
import { logTypeModules, type ForwarderDefaults } from '../engine/logtypes/index.js';

export type DatabaseConfig =
  | {
      kind: 'sqlite';
      path: string;
      /** How long a write waits for another process's write lock before answering 503. */
      busyTimeoutMs: number;
    }
  | {
      kind: 'postgres';
      url: string;
      /** Connections per instance. */
      poolSize: number;
      /** How often an instance looks for rule changes made by the others. */
      rulesRefreshMs: number;
      /** How long opening a connection may take, a statement may run, and a lock wait may last. */
      connectTimeoutMs: number;
      statementTimeoutMs: number;
      lockTimeoutMs: number;
    };

export interface AppConfig {
  port: number;
  host: string;
  database: DatabaseConfig;
  /** Largest request body accepted, in bytes (413 above). */
  bodyLimitBytes: number;
  ingest: {
    /** What a compressed batch may expand to, in bytes (413 above): the guard against gzip bombs. */
    maxDecompressedBytes: number;
    /** Events in one batch (413 above). */
    maxEvents: number;
    /** Threads that decode and evaluate large batches beside the one serving requests (0: none). */
    evaluationThreads: number;
    /** A batch whose Content-Length is at least this goes to an evaluation thread; a smaller one is evaluated in place. */
    evaluationThreadMinBytes: number;
  };
  /** What any one request may hold or take; each refused with a 4xx above its bound. */
  limits: {
    /** How long a request may take to arrive, in milliseconds (Node's requestTimeout). */
    requestTimeoutMs: number;
    /** Open connections in all, and from one client address (0: no cap). */
    maxConnections: number;
    maxConnectionsPerAddress: number;
    /** How deeply a JSON body or one event may nest. */
    maxJsonDepth: number;
    /** One event's size, in characters. */
    maxEventChars: number;
    /** One rule's source, and a pack's, in characters. */
    maxRuleChars: number;
    maxPackChars: number;
  };
  auth: {
    /** An admin key given by the operator (TRIPLINE_ADMIN_KEY); a new value replaces the previous one. */
    adminKey: string | undefined;
    /** Requests per second each key may make on average, and in one burst; 0 turns the limit off. */
    rateLimitPerSecond: number;
    rateLimitBurst: number;
  };
  /** Forwarder compatibility (src/forwarders): which log type a HEC sourcetype or a bulk index names. */
  forwarders: {
    /** HEC sourcetype → log type (HEC_SOURCETYPES). */
    hecSourcetypes: ReadonlyMap<string, string>;
    /** Elasticsearch index pattern (exact, or a prefix ending in *) → log type (BULK_INDICES), in order. */
    bulkIndices: ReadonlyArray<{ pattern: string; logType: string }>;
  };
  /** Panther's Python rules: the sandboxed workers they run in (docs/python-rules.md). */
  python: {
    /** The interpreter (under /usr) and bubblewrap. */
    interpreter: string;
    bwrap: string;
    /** Address-space limit of one worker, in MiB. */
    workerMemoryMb: number;
    /** How long one rule function may run, in seconds. */
    callSeconds: number;
    /** How long one request to a worker may take before the worker is killed, in milliseconds. */
    requestDeadlineMs: number;
    /** Workers that evaluate ingest's events, side by side for a large batch. */
    workers: number;
  };
  /** Browser origins allowed to call the API (CORS); empty: no CORS headers at all. */
  corsOrigins: string[];
  /** The built-in rule pack, loaded at start. Empty: none. */
  builtinRulesDir: string | undefined;
  logLevel: LogLevel;
  /** How long a stop (SIGTERM, SIGINT) waits for requests in flight before exiting anyway, in milliseconds. */
  shutdownTimeoutMs: number;
}

/** The shortest TRIPLINE_ADMIN_KEY accepted: 32 characters, so that a guessable key cannot be set. */
export const MIN_ADMIN_KEY_LENGTH = 32;
/** The longest API key an Authorization header may carry, TRIPLINE_ADMIN_KEY included. */
export const MAX_API_KEY_LENGTH = 512;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SQLITE_PATH = 'data/tripline.sqlite';

function parseDatabaseUrl(raw: string, env: NodeJS.ProcessEnv, problems: string[]): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      problems.push(`DATABASE_URL: ${JSON.stringify(raw)} is not a valid postgres:// URL`);
    }
    const statementTimeoutMs = integer(
      'DATABASE_STATEMENT_TIMEOUT_MS',
      env.DATABASE_STATEMENT_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
      problems,
    );
    const lockTimeoutMs = integer(
      'DATABASE_LOCK_TIMEOUT_MS',
      env.DATABASE_LOCK_TIMEOUT_MS,
      20_000,
      100,
      3_600_000,
      problems,
    );
    if (lockTimeoutMs > statementTimeoutMs)
      problems.push('DATABASE_LOCK_TIMEOUT_MS: must not be longer than DATABASE_STATEMENT_TIMEOUT_MS');
    return {
      kind: 'postgres',
      url: raw,
      poolSize: integer('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 10, 1, 1000, problems),
      rulesRefreshMs: integer('RULES_REFRESH_MS', env.RULES_REFRESH_MS, 2000, 100, 60_000, problems),
      connectTimeoutMs: integer(
        'DATABASE_CONNECT_TIMEOUT_MS',
        env.DATABASE_CONNECT_TIMEOUT_MS,
        5000,
        100,
        600_000,
        problems,
      ),
      statementTimeoutMs,
      lockTimeoutMs,
    };
  }
  // sqlite:path, sqlite://path, file:path, or a plain file path.
  const match = /^(?:sqlite:(?:\/\/)?|file:)?(.*)$/.exec(raw);
  const path = match?.[1] ?? '';
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.replace(/^sqlite:\/\//, ''))) {
    problems.push(
      `DATABASE_URL: ${JSON.stringify(raw)} is neither an SQLite file (sqlite:path) nor postgres://…`,
    );
  }
  return {
    kind: 'sqlite',
    path: path === ':memory:' ? path : resolve(path),
    busyTimeoutMs: integer('SQLITE_BUSY_TIMEOUT_MS', env.SQLITE_BUSY_TIMEOUT_MS, 5000, 0, 600_000, problems),
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value;
}

/** A comma-separated list of exact origins (scheme://host[:port]); no wildcard, as keys travel in headers. */
function parseCorsOrigins(raw: string | undefined, problems: string[]): string[] {
  const origins = (raw ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin || origin.includes('*')) {
      problems.push(
        `CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://console.example.com (no path, no trailing slash, no *)`,
      );
    }
  }
  return origins;
}

/** `name=LogType` pairs, comma-separated; names are checked by `validName`, log types by LOG_TYPE_PATTERN. */
function parseLogTypeMap(
  setting: string,
  raw: string,
  validName: RegExp,
  example: string,
  problems: string[],
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const equals = entry.indexOf('=');
    const name = equals < 0 ? '' : entry.slice(0, equals).trim();
    const logType = equals < 0 ? '' : entry.slice(equals + 1).trim();
    if (!validName.test(name) || !LOG_TYPE_PATTERN.test(logType)) {
      problems.push(`${setting}: ${JSON.stringify(entry)} is not name=LogType like ${example}`);
      continue;
    }
    pairs.push([name, logType]);
  }
  return pairs;
}

/** `name=LogType,…` from the names each log type module says forwarders give it. */
function forwarderDefaults(kind: keyof ForwarderDefaults): string {
  return logTypeModules()
    .flatMap((module) => (module.forwarderDefaults?.[kind] ?? []).map((name) => `${name}=${module.name}`))
    .join(',');
}

/** Reads and checks every setting; throws ConfigError listing every problem at once. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { builtinRulesDir?: string } = {},
): AppConfig {
  const problems: string[] = [];
  const port = integer('PORT', env.PORT, 8080, 0, 65535, problems);
  const host = env.HOST?.trim() || '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host))
    problems.push(`HOST: ${JSON.stringify(host)} is not a host name or address`);
  const database = parseDatabaseUrl(
    env.DATABASE_URL?.trim() || `sqlite:${DEFAULT_SQLITE_PATH}`,
    env,
    problems,
  );
  const bodyLimitBytes = integer(
    'BODY_LIMIT_BYTES',
    env.BODY_LIMIT_BYTES,
    16 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
    problems,
  );
  const maxDecompressedBytes = integer(
    'INGEST_MAX_DECOMPRESSED_BYTES',
    env.INGEST_MAX_DECOMPRESSED_BYTES,
    128 * 1024 * 1024,
    1024,
    4 * 1024 * 1024 * 1024,
    problems,
  );
  const maxEvents = integer('INGEST_MAX_EVENTS', env.INGEST_MAX_EVENTS, 100_000, 1, 10_000_000, problems);
  // One core is left to the thread that serves requests and writes; a small batch is not worth a hand-over.
  const evaluationThreads = integer(
    'EVALUATION_THREADS',
    env.EVALUATION_THREADS,
    Math.min(4, availableParallelism() - 1),
    0,
    64,
    problems,
  );
  const evaluationThreadMinBytes = integer(
    'EVALUATION_THREAD_MIN_BYTES',
    env.EVALUATION_THREAD_MIN_BYTES,
    256 * 1024,
    0,
    4 * 1024 * 1024 * 1024,
    problems,
  );
  const limits = {
    requestTimeoutMs: integer(
      'REQUEST_TIMEOUT_MS',
      env.REQUEST_TIMEOUT_MS,
      120_000,
      1000,
      3_600_000,
      problems,
    ),
    maxConnections: integer('MAX_CONNECTIONS', env.MAX_CONNECTIONS, 10_000, 0, 10_000_000, problems),
    maxConnectionsPerAddress: integer(
      'MAX_CONNECTIONS_PER_ADDRESS',
      env.MAX_CONNECTIONS_PER_ADDRESS,
      512,
      0,
      10_000_000,
      problems,
    ),
    maxJsonDepth: integer('MAX_JSON_DEPTH', env.MAX_JSON_DEPTH, 64, 2, 1000, problems),
    maxEventChars: integer(
      'INGEST_MAX_EVENT_CHARS',
      env.INGEST_MAX_EVENT_CHARS,
      1024 * 1024,
      1024,
      64 * 1024 * 1024,
      problems,
    ),
    maxRuleChars: integer('RULE_MAX_CHARS', env.RULE_MAX_CHARS, 512 * 1024, 1024, 64 * 1024 * 1024, problems),
    maxPackChars: integer(
      'RULE_PACK_MAX_CHARS',
      env.RULE_PACK_MAX_CHARS,
      8 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
      problems,
    ),
  };
  const adminKey = env.TRIPLINE_ADMIN_KEY === '' ? undefined : env.TRIPLINE_ADMIN_KEY;
  if (
    adminKey !== undefined &&
    (adminKey.length < MIN_ADMIN_KEY_LENGTH ||
      adminKey.length > MAX_API_KEY_LENGTH ||
      !/^[\x21-\x7e]+$/.test(adminKey))
  ) {
    problems.push(
      `TRIPLINE_ADMIN_KEY: must be ${MIN_ADMIN_KEY_LENGTH} to ${MAX_API_KEY_LENGTH} printable characters without spaces (e.g. openssl rand -base64 32)`,
    );
  }
  const auth = {
    adminKey,
    rateLimitPerSecond: integer(
      'RATE_LIMIT_PER_SECOND',
      env.RATE_LIMIT_PER_SECOND,
      100,
      0,
      1_000_000,
      problems,
    ),
    rateLimitBurst: integer('RATE_LIMIT_BURST', env.RATE_LIMIT_BURST, 200, 1, 10_000_000, problems),
  };
  const corsOrigins = parseCorsOrigins(env.CORS_ORIGINS, problems);
  const defaultSourcetypes = forwarderDefaults('hecSourcetypes');
  const defaultIndices = forwarderDefaults('bulkIndices');
  const forwarders = {
    hecSourcetypes: new Map(
      parseLogTypeMap(
        'HEC_SOURCETYPES',
        env.HEC_SOURCETYPES ?? defaultSourcetypes,
        /^[\x21-\x3c\x3e-\x7e]{1,200}$/,
        defaultSourcetypes || 'my:sourcetype=Vendor.LogType',
        problems,
      ),
    ),
    bulkIndices: parseLogTypeMap(
      'BULK_INDICES',
      env.BULK_INDICES ?? defaultIndices,
      /^[a-z0-9][a-z0-9._+-]{0,254}\*?$|^\*$/,
      defaultIndices || 'my-index*=Vendor.LogType',
      problems,
    ).map(([pattern, logType]) => ({ pattern, logType })),
  };
  const rulesDir = env.TRIPLINE_BUILTIN_RULES;
  const builtinRulesDir =
    rulesDir === undefined
      ? defaults.builtinRulesDir
      : rulesDir.trim() === ''
        ? undefined
        : resolve(rulesDir);
  if (builtinRulesDir !== undefined && !isDirectory(builtinRulesDir)) {
    problems.push(
      `TRIPLINE_BUILTIN_RULES: ${JSON.stringify(builtinRulesDir)} is not a directory (set it empty for no built-in rules)`,
    );
  }
  const level = (env.LOG_LEVEL?.trim().toLowerCase() || 'log') as LogLevel;
  if (!LOG_LEVELS.includes(level))
    problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  const shutdownTimeoutMs = integer(
    'SHUTDOWN_TIMEOUT_MS',
    env.SHUTDOWN_TIMEOUT_MS,
    25_000,
    1000,
    3_600_000,
    problems,
  );
  const python = {
    interpreter: env.TRIPLINE_PYTHON?.trim() || '/usr/bin/python3',
    bwrap: env.TRIPLINE_BWRAP?.trim() || '/usr/bin/bwrap',
    workerMemoryMb: integer(
      'PYTHON_WORKER_MEMORY_MB',
      env.PYTHON_WORKER_MEMORY_MB,
      1024,
      128,
      65_536,
      problems,
    ),
    callSeconds: integer('PYTHON_CALL_SECONDS', env.PYTHON_CALL_SECONDS, 2, 1, 600, problems),
    requestDeadlineMs: integer(
      'PYTHON_REQUEST_DEADLINE_MS',
      env.PYTHON_REQUEST_DEADLINE_MS,
      30_000,
      1000,
      3_600_000,
      problems,
    ),
    // A large batch is shared out among the workers; two use both cores of a small machine.
    workers: integer(
      'PYTHON_WORKERS',
      env.PYTHON_WORKERS,
      Math.min(2, availableParallelism()),
      1,
      64,
      problems,
    ),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    database,
    bodyLimitBytes,
    ingest: { maxDecompressedBytes, maxEvents, evaluationThreads, evaluationThreadMinBytes },
    limits,
    auth,
    forwarders,
    python,
    corsOrigins,
    builtinRulesDir,
    logLevel: level,
    shutdownTimeoutMs,
  };
}
