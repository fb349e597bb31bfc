// The service's configuration, read once from the environment and checked before anything starts:
// a bad value stops the start with a message that says which setting and why.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

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
  };
  /** The built-in rule pack, loaded at start. Empty: none. */
  builtinRulesDir: string | undefined;
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SQLITE_PATH = 'data/tripline.sqlite';

function parseDatabaseUrl(raw: string, problems: string[]): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      problems.push(`DATABASE_URL: ${JSON.stringify(raw)} is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url: raw };
  }
  // sqlite:path, sqlite://path, file:path, or a plain file path.
  const match = /^(?:sqlite:(?:\/\/)?|file:)?(.*)$/.exec(raw);
  const path = match?.[1] ?? '';
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.replace(/^sqlite:\/\//, ''))) {
    problems.push(
      `DATABASE_URL: ${JSON.stringify(raw)} is neither an SQLite file (sqlite:path) nor postgres://…`,
    );
  }
  return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
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
  const database = parseDatabaseUrl(env.DATABASE_URL?.trim() || `sqlite:${DEFAULT_SQLITE_PATH}`, problems);
  if (database.kind === 'postgres') {
    problems.push(
      'DATABASE_URL: PostgreSQL is not supported by this version yet; use an SQLite file (sqlite:path)',
    );
  }
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
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    database,
    bodyLimitBytes,
    ingest: { maxDecompressedBytes, maxEvents },
    builtinRulesDir,
    logLevel: level,
  };
}
