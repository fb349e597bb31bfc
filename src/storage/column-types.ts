// Entities declare portable column types: Date, simple-json. On PostgreSQL they become the types that
// suit it, timestamptz and json; on SQLite they stay TypeORM's datetime text and JSON text. TypeORM
// reads column types from the decorators' global metadata when a data source is built, so this sets
// them just before: one process uses one kind of database at a time.
import { getMetadataArgsStorage, type ColumnType } from 'typeorm';
import type { ColumnMetadataArgs } from 'typeorm/metadata-args/ColumnMetadataArgs.js';
import type { SqlDialect } from './sql.js';

const portableTypes = new WeakMap<ColumnMetadataArgs, ColumnType | undefined>();

/**
 * JSON is json, not jsonb: nothing queries inside it (hit_fields is the index), and json keeps it exactly
 * as written, in the rule's key order and with any escape JSON allows (jsonb refuses \u0000), at a lower
 * cost per write.
 */
function postgresType(type: ColumnType | undefined): ColumnType | undefined {
  if (type === Date || type === 'datetime') return 'timestamptz';
  if (type === 'simple-json') return 'json';
  return type;
}

export function applyColumnTypes(dialect: SqlDialect, entities: readonly unknown[]): void {
  for (const column of getMetadataArgsStorage().columns) {
    if (!entities.includes(column.target)) continue;
    if (!portableTypes.has(column)) portableTypes.set(column, column.options.type);
    const portable = portableTypes.get(column);
    column.options.type = dialect === 'postgres' ? postgresType(portable) : portable;
  }
}
