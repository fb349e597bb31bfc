// Counts of hits and alerts in the database: the StatsStore the stats and coverage services ask for
// (stats/stats-store.ts). Each unit of work gets a StatsRepository on its EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type { BucketCount, EventTimeRange, StatsReader, StatsStore } from '../stats/stats-store.js';
import type { Interval } from '../stats/stats.service.js';
import { dialectOf, query, readCount, readTime, sqlTime, type SqlDialect } from './sql.js';

export const openStatsStore = (database: Database): StatsStore =>
  new DatabaseStore(database, StatsRepository);

/** The counting SQL, on the connection of one unit of work. */
export class StatsRepository implements StatsReader {
  private readonly dialect: SqlDialect;

  constructor(private readonly manager: EntityManager) {
    this.dialect = dialectOf(manager);
  }

  hitsPerBucket(
    range: Required<EventTimeRange>,
    interval: Interval,
    ruleId?: string,
  ): Promise<BucketCount[]> {
    const start = bucketStart(this.dialect, '"event_time"', interval);
    return this.perBucket(
      `SELECT "rule_id", ${start} AS start, COUNT(*) AS n FROM "hits" WHERE ${rulesNamed(ruleId)} AND "event_time" >= ? AND "event_time" < ? GROUP BY "rule_id", start`,
      range,
      interval,
      ruleId,
    );
  }

  alertsPerBucket(
    range: Required<EventTimeRange>,
    interval: Interval,
    ruleId?: string,
  ): Promise<BucketCount[]> {
    const start = bucketStart(this.dialect, '"first_event_time"', interval);
    return this.perBucket(
      `SELECT "rule_id", ${start} AS start, COUNT(*) AS n FROM "alerts" WHERE ${rulesNamed(ruleId)} AND "status" != 'pending' AND "first_event_time" >= ? AND "first_event_time" < ? GROUP BY "rule_id", start`,
      range,
      interval,
      ruleId,
    );
  }

  async newestHitTime(ruleId?: string): Promise<number | undefined> {
    const [row] = await query<{ newest: unknown }[]>(
      this.manager,
      `SELECT MAX("event_time") AS "newest" FROM "hits"${ruleId === undefined ? '' : ' WHERE "rule_id" = ?'}`,
      ruleId === undefined ? [] : [ruleId],
    );
    const newest = readTime(row?.newest);
    return Number.isNaN(newest) ? undefined : newest;
  }

  async hitsPerRule(range: EventTimeRange): Promise<Map<string, number>> {
    // Naming the rules lets SQLite count from the covering (rule_id, event_time) index.
    const where: string[] = [rulesNamed(undefined)];
    const parameters: unknown[] = [];
    if (range.since !== undefined) {
      where.push('"event_time" >= ?');
      parameters.push(sqlTime(this.dialect, range.since));
    }
    if (range.until !== undefined) {
      where.push('"event_time" < ?');
      parameters.push(sqlTime(this.dialect, range.until));
    }
    const rows = await query<{ rule_id: string; n: unknown }[]>(
      this.manager,
      `SELECT "rule_id", COUNT(*) AS n FROM "hits" WHERE ${where.join(' AND ')} GROUP BY "rule_id"`,
      parameters,
    );
    return new Map(rows.map((row) => [row.rule_id, readCount(row.n)]));
  }

  private async perBucket(
    sql: string,
    range: Required<EventTimeRange>,
    interval: Interval,
    ruleId: string | undefined,
  ): Promise<BucketCount[]> {
    const times = [sqlTime(this.dialect, range.since), sqlTime(this.dialect, range.until)];
    const rows = await query<{ start: string; rule_id: string; n: unknown }[]>(
      this.manager,
      sql,
      ruleId === undefined ? times : [ruleId, ...times],
    );
    return rows.map((row) => ({
      start: interval === 'hour' ? `${row.start.replace(' ', 'T')}:00:00.000Z` : `${row.start}T00:00:00.000Z`,
      ruleId: row.rule_id,
      count: readCount(row.n),
    }));
  }
}

/**
 * One rule, or every rule that exists: naming the rules lets the database read (rule_id, event_time)
 * ranges from a covering index instead of every hit row.
 */
function rulesNamed(ruleId: string | undefined): string {
  return ruleId === undefined ? '"rule_id" IN (SELECT "rule_id" FROM "rules")' : '"rule_id" = ?';
}

/**
 * The hour ('YYYY-MM-DD HH') or day ('YYYY-MM-DD') of a time column, in UTC. SQLite stores UTC text, so a
 * prefix is the bucket.
 */
function bucketStart(dialect: SqlDialect, column: string, interval: Interval): string {
  if (dialect === 'sqlite') return `substr(${column}, 1, ${interval === 'hour' ? 13 : 10})`;
  return `to_char(${column} AT TIME ZONE 'UTC', '${interval === 'hour' ? 'YYYY-MM-DD HH24' : 'YYYY-MM-DD'}')`;
}
