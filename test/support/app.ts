// Starts the real application (same setup as main.ts) on a real port and a real database: a new SQLite
// file, or, when TRIPLINE_TEST_DATABASE=postgres, a new database on the PostgreSQL at TEST_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped again by removeDatabase.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/app.setup.js';
import { loadConfig } from '../../src/config/config.js';
import { Database } from '../../src/storage/database.service.js';
import { query, sqlTime } from '../../src/storage/sql.js';
import { REPO_ROOT } from './shared.js';

/** Which database the e2e suites run on in this process. */
export const TEST_DATABASE: 'sqlite' | 'postgres' =
  process.env.TRIPLINE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The admin key every test app starts with (TRIPLINE_ADMIN_KEY); `http` sends it unless told otherwise. */
export const TEST_ADMIN_KEY = 'tripline-test-admin-key-0123456789abcdef';

/** The Authorization header for a key (the test admin key by default). */
export function bearer(key: string = TEST_ADMIN_KEY): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  /** Its DATABASE_URL: start another app on it to restart, or to run a second instance. */
  databaseUrl: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a database (a restart, a second instance); default: a new one. */
  databaseUrl?: string;
  /** Load the built-in pack from rules/ (default true). */
  builtinRules?: boolean;
  env?: Record<string, string>;
}

export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  const databaseUrl = options.databaseUrl ?? (await newDatabase());
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    TRIPLINE_BUILTIN_RULES: options.builtinRules === false ? '' : join(REPO_ROOT, 'rules'),
    LOG_LEVEL: 'error',
    TRIPLINE_ADMIN_KEY: TEST_ADMIN_KEY,
    // Suites that send many requests quickly are not about the rate limit; its own test turns it on.
    RATE_LIMIT_PER_SECOND: '0',
    ...options.env,
  });
  const app = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return {
    app,
    url,
    databaseUrl,
    async close() {
      await app.close();
    },
  };
}

/** A new, empty database of the kind under test. */
export async function newDatabase(kind: 'sqlite' | 'postgres' = TEST_DATABASE): Promise<string> {
  if (kind === 'sqlite') {
    const directory = await mkdtemp(join(tmpdir(), 'tripline-e2e-'));
    return `sqlite:${join(directory, 'tripline.sqlite')}`;
  }
  const name = `tripline_test_${randomBytes(6).toString('hex')}`;
  await onPostgres(`CREATE DATABASE "${name}"`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function removeDatabase(running: RunningApp | { databaseUrl: string }): Promise<void> {
  const url = running.databaseUrl;
  if (url.startsWith('sqlite:')) {
    await rm(join(url.slice('sqlite:'.length), '..'), { recursive: true, force: true });
    return;
  }
  await onPostgres(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
}

async function onPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Rows of a query written with `?` placeholders, as SQLite shows them whatever the database: times as
 * 'YYYY-MM-DD HH:MM:SS.SSS' text and JSON as text. Counts must be cast (CAST(COUNT(*) AS INTEGER)).
 */
export async function rows<T = any>(
  running: RunningApp,
  sql: string,
  parameters: unknown[] = [],
): Promise<T[]> {
  const found = await running.app
    .get(Database)
    .read((manager) => query<Record<string, unknown>[]>(manager, sql, parameters));
  return found.map(
    (row) =>
      Object.fromEntries(
        Object.entries(row).map(([column, value]) => [
          column,
          value instanceof Date
            ? sqlTime('sqlite', value.getTime())
            : value !== null && typeof value === 'object'
              ? JSON.stringify(value)
              : value,
        ]),
      ) as T,
  );
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One real HTTP request, with the test admin key unless `key` says otherwise (null: none); JSON is parsed. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: {
    body?: string | object;
    contentType?: string;
    headers?: Record<string, string>;
    key?: string | null;
  } = {},
): Promise<HttpResult<T>> {
  const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
  const headers: Record<string, string> = { ...(key === null ? {} : bearer(key)), ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] =
      options.contentType ?? (typeof options.body === 'string' ? 'application/yaml' : 'application/json');
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const parsed = type.includes('json') && text !== '' ? (JSON.parse(text) as T) : (text as T);
  return { status: response.status, headers: response.headers, body: parsed, text };
}
