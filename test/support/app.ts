// Starts the real application (same setup as main.ts) on a real SQLite file and a real port.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.setup.js';
import { loadConfig } from '../../src/config/config.js';
import { REPO_ROOT } from './shared.js';

/** The admin key every test app starts with (TRIPLINE_ADMIN_KEY); `http` sends it unless told otherwise. */
export const TEST_ADMIN_KEY = 'tripline-test-admin-key-0123456789abcdef';

/** The Authorization header for a key (the test admin key by default). */
export function bearer(key: string = TEST_ADMIN_KEY): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  databaseFile: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a database file (a restart); default: a new one in a new temporary directory. */
  databaseFile?: string;
  /** Load the built-in pack from rules/ (default true). */
  builtinRules?: boolean;
  env?: Record<string, string>;
}

export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  const directory = options.databaseFile ? undefined : await mkdtemp(join(tmpdir(), 'tripline-e2e-'));
  const databaseFile = options.databaseFile ?? join(directory ?? '', 'tripline.sqlite');
  const config = loadConfig({
    DATABASE_URL: `sqlite:${databaseFile}`,
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
    databaseFile,
    async close() {
      await app.close();
    },
  };
}

export async function removeDatabase(running: RunningApp): Promise<void> {
  await rm(join(running.databaseFile, '..'), { recursive: true, force: true });
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
