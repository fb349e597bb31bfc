// Reading hits: filters on rule, severity, log type, alert, event time and any output field, newest
// first, in keyset pages that stay exact while new hits arrive.
import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors.js';
import { encodeCursor } from '../common/query-params.js';
import { Database } from '../storage/database.service.js';
import { RuleVersionEntity } from '../storage/entities.js';
import { query, readTime, sqlTime, type SqlDialect } from '../storage/sql.js';
import type { HitFilters } from './hit-filters.js';
import { hitView, type HitRow, type HitView } from './hit-views.js';

export interface HitPage {
  items: HitView[];
  nextCursor: string | null;
}

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

function newestFirst(a: HitRow, b: HitRow): number {
  return readTime(b.event_time) - readTime(a.event_time) || b.id - a.id;
}

@Injectable()
export class HitsService {
  constructor(private readonly database: Database) {}

  async list(filters: HitFilters): Promise<HitPage> {
    const severities = filters.severities ?? [undefined];
    const rows = await this.database.read(async (manager) => {
      const found: HitRow[] = [];
      for (const severity of new Set(severities)) {
        const { sql, parameters } = pageQuery(filters, severity, this.database.dialect);
        found.push(...(await query<HitRow[]>(manager, sql, parameters)));
      }
      return found;
    });
    rows.sort(newestFirst);
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > filters.limit && last
        ? encodeCursor({ time: readTime(last.event_time), id: last.id })
        : null;
    return { items: page.map(hitView), nextCursor };
  }

  /** One hit with its event, and the exact rule version that made it (even if the rule changed since). */
  async get(id: number): Promise<HitView & { rule: Record<string, unknown> }> {
    return this.database.read(async (manager) => {
      const [row] = await query<HitRow[]>(manager, `SELECT ${COLUMNS} FROM "hits" h WHERE h."id" = ?`, [id]);
      if (!row) throw new NotFoundError('hit', String(id));
      const version = await manager.findOneOrFail(RuleVersionEntity, { where: { id: row.rule_version_id } });
      return {
        ...hitView(row),
        rule: {
          ruleId: version.ruleId,
          version: version.version,
          origin: version.origin,
          createdAt: version.createdAt.toISOString(),
          contentHash: version.contentHash,
          severity: version.metadata.severity,
          displayName: version.metadata.displayName,
          source: version.sourceText,
        },
      };
    });
  }
}
