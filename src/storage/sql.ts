// Hand-written SQL (bulk writes, and reads that must walk one index in order) on both databases. Queries
// are written once, with `?` placeholders and portable SQL; what differs is kept here: placeholders, how a
// time is passed, how times, JSON and counts come back, and how a set of rows is sent in one statement
// whose text does not depend on their number.
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

export type SqlDialect = 'sqlite' | 'postgres';

/** Bound values per statement: SQLite's default limit is 32,766 and PostgreSQL's 65,535; stay well below. */
const MAX_SQL_PARAMETERS = 16_000;

export function dialectOf(manager: EntityManager): SqlDialect {
  return manager.dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * A time as a query parameter. SQLite stores TypeORM's UTC text 'YYYY-MM-DD HH:MM:SS.SSS' and compares
 * it as text; PostgreSQL reads ISO 8601 into timestamptz.
 */
export function sqlTime(dialect: SqlDialect, ms: number): string {
  const iso = new Date(ms).toISOString();
  return dialect === 'postgres' ? iso : iso.replace('T', ' ').slice(0, 23);
}

/** A stored time as epoch ms: SQLite's text or PostgreSQL's Date; NaN for anything else. */
export function readTime(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string')
    return Date.parse(value.includes('T') ? value : `${value.replace(' ', 'T')}Z`);
  return Number.NaN;
}

/** A stored JSON object: text on SQLite, already parsed from jsonb on PostgreSQL. */
export function readJsonObject(value: unknown): Record<string, unknown> {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
}

/** A count: PostgreSQL returns bigint as text. */
export function readCount(value: unknown): number {
  return Number(value);
}

/**
 * Runs SQL written with `?` placeholders (PostgreSQL gets $1, $2, …) and returns its rows. For SELECT and
 * INSERT … RETURNING; the queries never hold a `?` inside a literal. PostgreSQL text cannot hold U+0000,
 * which JSON allows: in text values it becomes U+FFFD (JSON text keeps it escaped, as `\u0000`).
 */
export function query<T>(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<T> {
  if (dialectOf(manager) === 'sqlite') return manager.query<T>(sql, [...parameters]);
  let position = 0;
  return manager.query<T>(
    sql.replace(/\?/g, () => `$${++position}`),
    parameters.map((value) =>
      typeof value === 'string'
        ? withoutNul(value)
        : Array.isArray(value)
          ? value.map((item: unknown) => (typeof item === 'string' ? withoutNul(item) : item))
          : value,
    ),
  );
}

function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** `(?, ?, ?), (?, ?, ?)` for `rows` rows of `columns` values. */
export function valuesList(rows: number, columns: number): string {
  const row = `(${new Array<string>(columns).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(row).join(', ');
}

/** A column of rows sent as one set: its name, and its PostgreSQL type (SQLite needs none). */
export interface SetColumn {
  name: string;
  type: 'text' | 'integer' | 'timestamptz' | 'json';
}

/**
 * Rows as a table `alias` for a FROM clause, in one SQL text whatever their number, so that the statement
 * is parsed (and on SQLite prepared) once and sent in one round trip: PostgreSQL gets one array per column
 * (unnest), SQLite one JSON array of rows (json_each). For a few small values per row: SQLite reads
 * them back from JSON, so a bulk of long text is better sent with insertRows.
 */
export function rowsFrom(
  dialect: SqlDialect,
  alias: string,
  columns: readonly SetColumn[],
  rows: readonly (readonly unknown[])[],
): { sql: string; parameters: unknown[] } {
  const names = columns.map((column) => `"${column.name}"`).join(', ');
  if (dialect === 'postgres')
    return {
      sql: `unnest(${columns.map((column) => `?::${column.type}[]`).join(', ')}) AS "${alias}" (${names})`,
      parameters: columns.map((_, index) => rows.map((row) => row[index] ?? null)),
    };
  return {
    sql: `(SELECT ${columns.map((column, index) => `"value" ->> ${index} AS "${column.name}"`).join(', ')} FROM json_each(?)) AS "${alias}"`,
    parameters: [JSON.stringify(rows)],
  };
}

/**
 * INSERT of many rows in statements whose text does not depend on their number: on PostgreSQL one
 * statement (unnest of one array per column); on SQLite, whose statements bind values one by one, blocks
 * of VALUES rows whose sizes are powers of two (1,000 rows: 512 + 256 + 128 + 64 + 32 + 8), so that a run
 * prepares at most a dozen texts per table. `suffix` follows the rows (ON CONFLICT …, RETURNING …); the
 * rows it returns are concatenated.
 */
export async function insertRows<T>(
  manager: EntityManager,
  table: string,
  columns: readonly SetColumn[],
  rows: readonly (readonly unknown[])[],
  suffix = '',
): Promise<T[]> {
  if (rows.length === 0) return [];
  const names = columns.map((column) => `"${column.name}"`).join(', ');
  const dialect = dialectOf(manager);
  if (dialect === 'postgres') {
    const source = rowsFrom(dialect, 'row', columns, rows);
    return query<T[]>(
      manager,
      `INSERT INTO "${table}" (${names}) SELECT ${names} FROM ${source.sql} ${suffix}`,
      source.parameters,
    );
  }
  const largest = 2 ** Math.floor(Math.log2(Math.max(1, MAX_SQL_PARAMETERS / columns.length)));
  const returned: T[] = [];
  for (let start = 0; start < rows.length;) {
    const size = Math.min(largest, 2 ** Math.floor(Math.log2(rows.length - start)));
    const block = rows.slice(start, start + size);
    const answer = await query<unknown>(
      manager,
      `INSERT INTO "${table}" (${names}) VALUES ${valuesList(size, columns.length)} ${suffix}`,
      block.flat(),
    );
    // Rows only with RETURNING; without, better-sqlite3 answers with what the statement changed.
    if (Array.isArray(answer)) returned.push(...(answer as T[]));
    start += size;
  }
  return returned;
}

/**
 * Inserts rows into a table with a generated integer "id" and returns the id of each, in the order of
 * `rows`. PostgreSQL draws the ids from the table's sequence in the same statement that inserts the rows,
 * returning them with each row's position (RETURNING alone does not promise the order of the rows it
 * returns); SQLite inserts one row at a time with one text, a call within this process.
 */
export async function insertReturningIds(
  manager: EntityManager,
  table: string,
  columns: readonly SetColumn[],
  rows: readonly (readonly unknown[])[],
): Promise<number[]> {
  if (rows.length === 0) return [];
  const names = columns.map((column) => `"${column.name}"`).join(', ');
  const dialect = dialectOf(manager);
  if (dialect === 'sqlite') {
    const ids: number[] = [];
    for (const row of rows) {
      const [inserted] = await query<{ id: number }[]>(
        manager,
        `INSERT INTO "${table}" (${names}) VALUES ${valuesList(1, columns.length)} RETURNING "id"`,
        row,
      );
      ids.push(Number(inserted?.id));
    }
    return ids;
  }
  const source = rowsFrom(
    dialect,
    'row',
    [{ name: 'position', type: 'integer' }, ...columns],
    rows.map((row, position) => [position, ...row]),
  );
  // "new" is read twice, so PostgreSQL evaluates it once: the ids inserted are the ids returned.
  const inserted = await query<{ id: number | string; position: number }[]>(
    manager,
    `WITH "new" AS (SELECT nextval(pg_get_serial_sequence('"${table}"', 'id')) AS "id", ${names}, "position" FROM ${source.sql}), "stored" AS (INSERT INTO "${table}" ("id", ${names}) SELECT "id", ${names} FROM "new") SELECT "id", "position" FROM "new"`,
    source.parameters,
  );
  const ids = new Array<number>(rows.length);
  for (const row of inserted) ids[row.position] = Number(row.id);
  return ids;
}

/**
 * Splits rows so that each statement binds at most MAX_SQL_PARAMETERS values, `reserved` of them taken by
 * the statement's other parameters (the built-in pack's rows, written once at start-up).
 */
export function chunksFor<T>(rows: readonly T[], columns: number, reserved = 0): T[][] {
  const size = Math.max(1, Math.floor((MAX_SQL_PARAMETERS - reserved) / columns));
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  return chunks;
}

/**
 * Names one transaction locks one by one; past this, it locks their whole family at once. PostgreSQL
 * keeps every lock in one shared table (by default 64 per connection, all connections pooled), so a
 * transaction that locked one name per dedup group could fail for any number of groups past that.
 */
export const MAX_NAMED_LOCKS = 32;

/** Families a transaction holds whole (exclusively), by its query runner: their names need no lock of their own. */
const wholeFamilies = new WeakMap<object, Set<string>>();

/**
 * Serialises work on each of these names of one family (`alert-group`, `rule`, …) across every connection
 * and instance until the transaction ends (PostgreSQL advisory locks). A transaction with a few names
 * holds the family shared and each name exclusively; one with more than MAX_NAMED_LOCKS holds the family
 * exclusively, which excludes everyone else working on any name of it. Either way a transaction holds at
 * most MAX_NAMED_LOCKS + 1 locks per family, and the locks are taken family first, then names in the
 * database's sorted order, so no two transactions can each hold a lock the other waits for. SQLite runs one
 * write transaction at a time anyway.
 */
export async function lockNames(
  manager: EntityManager,
  family: string,
  names: Iterable<string>,
): Promise<void> {
  if (dialectOf(manager) !== 'postgres') return;
  const transaction = manager.queryRunner ?? manager;
  const whole = wholeFamilies.get(transaction);
  if (whole?.has(family)) return;
  const keys = [...new Set([...names].map((name) => lockKey(`${family}:${name}`)))];
  if (keys.length === 0) return;
  if (keys.length > MAX_NAMED_LOCKS) {
    await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(lockKey(family))]);
    wholeFamilies.set(transaction, new Set([...(whole ?? []), family]));
    return;
  }
  await manager.query('SELECT pg_advisory_xact_lock_shared($1::bigint)', [String(lockKey(family))]);
  // The database sorts them: every transaction takes its locks in the same order.
  await manager.query(
    'SELECT pg_advisory_xact_lock(key) FROM (SELECT unnest($1::bigint[]) AS key ORDER BY 1) AS keys',
    [keys.map(String)],
  );
}

/** A lock name as PostgreSQL's 64-bit advisory lock key: the first 8 bytes of its sha256. */
function lockKey(name: string): bigint {
  return createHash('sha256').update(name, 'utf8').digest().readBigInt64BE(0);
}
