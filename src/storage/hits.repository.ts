// Hits in the database: the HitStore the hits service asks for (hits/hit-store.ts). Each unit of work
// gets a HitsRepository on its EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type { HitFilters } from '../hits/hit-filters.js';
import type { HitReader, HitStore } from '../hits/hit-store.js';
import type { HitRow } from '../hits/hit-views.js';
import { RuleVersionEntity } from './entities.js';
import { dialectOf, query, sqlTime, type SqlDialect } from './sql.js';

const COLUMNS =
  'h."id", h."rule_id", h."rule_version", h."rule_version_id", h."severity", h."title", h."dedup_key", h."alert_id", h."log_type", h."event_time", h."received_at", h."output_fields", h."event"';

/**
 * The SELECT for one page; every filter has an index that also gives the order (newest event first).
 * `severity` is one value here: several are read as one query each and merged, so that each query
 * walks an index in order.
 */
function pageQuery(
  filters: HitFilters,
  severity: string | undefined,
  dialect: SqlDialect,
): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const where: string[] = [];
  // One field filter drives the query from its index, which is in event-time order already. Several
  // are intersected as sets of hit ids, each read from its own index range.
  const [driver] = filters.fields.length === 1 ? filters.fields : [];
  const time = driver ? 'f."event_time"' : 'h."event_time"';
  const id = driver ? 'f."hit_id"' : 'h."id"';
  const keyset = (timeColumn: string, idColumn: string): string | undefined => {
    if (!filters.after) return undefined;
    const at = sqlTime(dialect, filters.after.time);
    parameters.push(at, at, filters.after.id);
    return `(${timeColumn} < ? OR (${timeColumn} = ? AND ${idColumn} < ?))`;
  };
  let from = '"hits" h';
  if (driver) {
    from = '"hit_fields" f JOIN "hits" h ON h."id" = f."hit_id"';
    where.push('f."name" = ?', 'f."value" = ?');
    parameters.push(driver.name, driver.value);
  } else if (filters.fields.length > 1) {
    const sets = filters.fields.map((field) => {
      parameters.push(field.name, field.value);
      const page = keyset('x."event_time"', 'x."hit_id"');
      return `SELECT x."hit_id" FROM "hit_fields" x WHERE x."name" = ? AND x."value" = ?${page ? ` AND ${page}` : ''}`;
    });
    where.push(`h."id" IN (${sets.join(' INTERSECT ')})`);
  }
  const equal = (column: string, value: unknown) => {
    where.push(`${column} = ?`);
    parameters.push(value);
  };
  if (filters.ruleId !== undefined) equal('h."rule_id"', filters.ruleId);
  if (severity !== undefined) equal('h."severity"', severity);
  if (filters.logType !== undefined) equal('h."log_type"', filters.logType);
  if (filters.alertId !== undefined) equal('h."alert_id"', filters.alertId);
  if (filters.since !== undefined) {
    where.push(`${time} >= ?`);
    parameters.push(sqlTime(dialect, filters.since));
  }
  if (filters.until !== undefined) {
    where.push(`${time} < ?`);
    parameters.push(sqlTime(dialect, filters.until));
  }
  const page = keyset(time, id);
  if (page) where.push(page);
  parameters.push(filters.limit + 1);
  const sql = `SELECT ${COLUMNS} FROM ${from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${time} DESC, ${id} DESC LIMIT ?`;
  return { sql, parameters };
}

export const openHitStore = (database: Database): HitStore => new DatabaseStore(database, HitsRepository);

/** The hits' SQL, on the connection of one unit of work. */
export class HitsRepository implements HitReader {
  constructor(private readonly manager: EntityManager) {}

  newestHits(filters: HitFilters, severity: string | undefined): Promise<HitRow[]> {
    const { sql, parameters } = pageQuery(filters, severity, dialectOf(this.manager));
    return query<HitRow[]>(this.manager, sql, parameters);
  }

  async findHit(id: number): Promise<HitRow | null> {
    const [row] = await query<HitRow[]>(this.manager, `SELECT ${COLUMNS} FROM "hits" h WHERE h."id" = ?`, [
      id,
    ]);
    return row ?? null;
  }

  ruleVersion(id: number): Promise<RuleVersionEntity> {
    return this.manager.findOneOrFail(RuleVersionEntity, { where: { id } });
  }
}
