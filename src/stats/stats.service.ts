// Hits and alerts per rule and per hour or day over a range of event time.
import { Injectable } from '@nestjs/common';
import { InvalidParametersError } from '../common/errors.js';
import { instant, rejectUnknown, single, type RawQuery } from '../common/query-params.js';
import { Database } from '../storage/database.service.js';
import { query as sqlQuery, readCount, readTime, sqlTime, type SqlDialect } from '../storage/sql.js';

export type Interval = 'hour' | 'day';

export interface StatsQuery {
  since: number;
  until: number;
  interval: Interval;
  ruleId?: string;
}

export interface StatsBucket {
  start: string;
  ruleId: string;
  hits: number;
  alerts: number;
}

export interface StatsAnswer {
  since: string;
  until: string;
  interval: Interval;
  buckets: StatsBucket[];
  totals: { ruleId: string; hits: number; alerts: number }[];
  /** When the range holds no hit but others exist (replayed history, say): where the newest one is. */
  hint?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Most buckets one answer may hold, per rule. */
export const MAX_BUCKETS = 24 * 92;

export function parseStatsQuery(query: RawQuery, now = Date.now()): StatsQuery {
  rejectUnknown(query, ['since', 'until', 'interval', 'ruleId']);
  const interval = single(query, 'interval') ?? 'day';
  if (interval !== 'hour' && interval !== 'day') {
    throw new InvalidParametersError([{ parameter: 'interval', message: 'interval must be hour or day' }]);
  }
  const until = instant(query, 'until') ?? now;
  const since = instant(query, 'since') ?? until - 7 * DAY;
  if (since >= until)
    throw new InvalidParametersError([{ parameter: 'until', message: 'until must be later than since' }]);
  if ((until - since) / (interval === 'hour' ? HOUR : DAY) > MAX_BUCKETS) {
    throw new InvalidParametersError([
      {
        parameter: 'since',
        message: `the range holds more than ${MAX_BUCKETS} ${interval}s; narrow it or use a longer interval`,
      },
    ]);
  }
  return { since, until, interval, ruleId: single(query, 'ruleId') };
}

@Injectable()
export class StatsService {
  constructor(private readonly database: Database) {}

  async stats(query: StatsQuery): Promise<StatsAnswer> {
    const dialect = this.database.dialect;
    const range = [sqlTime(dialect, query.since), sqlTime(dialect, query.until)];
    // Naming the rules lets the database read (rule_id, event_time) ranges from a covering index instead
    // of every hit row.
    const rules =
      query.ruleId === undefined ? '"rule_id" IN (SELECT "rule_id" FROM "rules")' : '"rule_id" = ?';
    const parameters = query.ruleId === undefined ? range : [query.ruleId, ...range];
    const hitStart = bucketStart(dialect, '"event_time"', query.interval);
    const alertStart = bucketStart(dialect, '"first_event_time"', query.interval);
    const [hits, alerts] = await this.database.read(async (manager) => [
      await sqlQuery<{ start: string; rule_id: string; n: unknown }[]>(
        manager,
        `SELECT "rule_id", ${hitStart} AS start, COUNT(*) AS n FROM "hits" WHERE ${rules} AND "event_time" >= ? AND "event_time" < ? GROUP BY "rule_id", start`,
        parameters,
      ),
      await sqlQuery<{ start: string; rule_id: string; n: unknown }[]>(
        manager,
        `SELECT "rule_id", ${alertStart} AS start, COUNT(*) AS n FROM "alerts" WHERE ${rules} AND "status" != 'pending' AND "first_event_time" >= ? AND "first_event_time" < ? GROUP BY "rule_id", start`,
        parameters,
      ),
    ]);
    const toIso = (start: string) =>
      query.interval === 'hour' ? `${start.replace(' ', 'T')}:00:00.000Z` : `${start}T00:00:00.000Z`;
    const buckets = new Map<string, StatsBucket>();
    const bucket = (start: string, ruleId: string) => {
      const key = `${start}\u0000${ruleId}`;
      let found = buckets.get(key);
      if (!found) {
        found = { start, ruleId, hits: 0, alerts: 0 };
        buckets.set(key, found);
      }
      return found;
    };
    for (const row of hits) bucket(toIso(row.start), row.rule_id).hits += readCount(row.n);
    for (const row of alerts) bucket(toIso(row.start), row.rule_id).alerts += readCount(row.n);
    const sorted = [...buckets.values()].sort((a, b) =>
      a.start < b.start ? -1 : a.start > b.start ? 1 : a.ruleId < b.ruleId ? -1 : 1,
    );
    const totals = new Map<string, { ruleId: string; hits: number; alerts: number }>();
    for (const item of sorted) {
      const total = totals.get(item.ruleId) ?? { ruleId: item.ruleId, hits: 0, alerts: 0 };
      total.hits += item.hits;
      total.alerts += item.alerts;
      totals.set(item.ruleId, total);
    }
    const hint = sorted.length === 0 ? await this.newestHitHint(query.ruleId) : undefined;
    return {
      since: new Date(query.since).toISOString(),
      until: new Date(query.until).toISOString(),
      interval: query.interval,
      buckets: sorted,
      totals: [...totals.values()].sort((a, b) => b.hits - a.hits || (a.ruleId < b.ruleId ? -1 : 1)),
      ...(hint === undefined ? {} : { hint }),
    };
  }

  /** Ranges are of event time, 7 days back from now by default: replayed history lies outside. */
  private async newestHitHint(ruleId: string | undefined): Promise<string | undefined> {
    const [row] = await this.database.read((manager) =>
      sqlQuery<{ newest: unknown }[]>(
        manager,
        `SELECT MAX("event_time") AS "newest" FROM "hits"${ruleId === undefined ? '' : ' WHERE "rule_id" = ?'}`,
        ruleId === undefined ? [] : [ruleId],
      ),
    );
    const newest = readTime(row?.newest);
    if (Number.isNaN(newest)) return undefined;
    return `no hit in this range of event time; the newest hit's event time is ${new Date(newest).toISOString()}: set since and until around it`;
  }
}

/**
 * The hour ('YYYY-MM-DD HH') or day ('YYYY-MM-DD') of a time column, in UTC. SQLite stores UTC text, so a
 * prefix is the bucket.
 */
function bucketStart(dialect: SqlDialect, column: string, interval: 'hour' | 'day'): string {
  if (dialect === 'sqlite') return `substr(${column}, 1, ${interval === 'hour' ? 13 : 10})`;
  return `to_char(${column} AT TIME ZONE 'UTC', '${interval === 'hour' ? 'YYYY-MM-DD HH24' : 'YYYY-MM-DD'}')`;
}
