// Loaded into the benchmark's server (NODE_OPTIONS=--import …) by postgres-ingest.bench.ts, never by the
// service itself: counts every SQL statement the server sends, by its text, through the same `pg` and
// `better-sqlite3` modules TypeORM loads, and how often better-sqlite3 prepares each text (TypeORM keeps
// 100 prepared statements; a text not among them is prepared again). On SIGUSR2 it writes the counts to
// TRIPLINE_BENCH_STATEMENTS_FILE, so that the benchmark can count what one load issued.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface TextCount {
  executed: number;
  prepared: number;
}

export interface StatementSnapshot {
  /** By SQL text. */
  texts: Record<string, TextCount>;
}

const file = process.env.TRIPLINE_BENCH_STATEMENTS_FILE;
const counts = new Map<string, TextCount>();

function countOf(text: string): TextCount {
  let found = counts.get(text);
  if (!found) {
    found = { executed: 0, prepared: 0 };
    counts.set(text, found);
  }
  return found;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

const require = createRequire(import.meta.url);

const pg = require('pg') as { Client: { prototype: { query: Method } } };
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
  const [config] = args;
  const text =
    typeof config === 'string'
      ? config
      : typeof config === 'object' && config !== null && 'text' in config
        ? String(config.text)
        : undefined;
  if (text !== undefined) countOf(text).executed += 1;
  return pgQuery.apply(this, args);
};

interface SqliteStatement {
  source: string;
}
const sqlite = require('better-sqlite3') as { prototype: { prepare: Method; exec: Method } };
const prepare = sqlite.prototype.prepare;
const exec = sqlite.prototype.exec;
let statementPatched = false;
sqlite.prototype.prepare = function (this: unknown, ...args: unknown[]) {
  const statement = prepare.apply(this, args) as SqliteStatement;
  countOf(statement.source).prepared += 1;
  if (!statementPatched) {
    statementPatched = true;
    const prototype = Object.getPrototypeOf(statement) as Record<string, Method>;
    for (const name of ['run', 'all', 'get', 'iterate']) {
      const original = prototype[name];
      if (typeof original !== 'function') continue;
      prototype[name] = function (this: unknown, ...runArgs: unknown[]) {
        countOf((this as SqliteStatement).source).executed += 1;
        return original.apply(this, runArgs);
      };
    }
  }
  return statement;
};
sqlite.prototype.exec = function (this: unknown, ...args: unknown[]) {
  if (typeof args[0] === 'string') countOf(args[0]).executed += 1;
  return exec.apply(this, args);
};

if (file !== undefined) {
  process.on('SIGUSR2', () => {
    const snapshot: StatementSnapshot = { texts: Object.fromEntries(counts) };
    writeFileSync(`${file}.partial`, JSON.stringify(snapshot));
    renameSync(`${file}.partial`, file);
  });
}
