// Small helpers for the hand-written SQL of bulk writes (TypeORM's insert builder is far slower for
// thousands of rows). SQLite stores TypeORM datetimes as UTC text 'YYYY-MM-DD HH:MM:SS.SSS'.

/** SQLite's default limit on bound parameters is 32,766; stay well below it. */
export const MAX_SQL_PARAMETERS = 16_000;

export function sqliteTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

export function parseSqliteTimestamp(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** `(?, ?, ?), (?, ?, ?)` for `rows` rows of `columns` values. */
export function valuesList(rows: number, columns: number): string {
  const row = `(${new Array<string>(columns).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(row).join(', ');
}

/** Splits rows so that each statement binds at most MAX_SQL_PARAMETERS values. */
export function chunksFor<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_SQL_PARAMETERS / columns));
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  return chunks;
}
