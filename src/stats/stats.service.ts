// Hits and alerts per rule and per hour or day over a range of event time.
import { Injectable } from '@nestjs/common';
import { InvalidParametersError } from '../common/errors.js';
import { instant, rejectUnknown, single, type RawQuery } from '../common/query-params.js';
import { Database } from '../storage/database.service.js';
import { sqliteTimestamp } from '../storage/sql.js';

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
    const format = query.interval === 'hour' ? '%Y-%m-%dT%H:00:00.000Z' : '%Y-%m-%dT00:00:00.000Z';
    const range = [sqliteTimestamp(query.since), sqliteTimestamp(query.until)];
    const rule = query.ruleId === undefined ? '' : ' AND "rule_id" = ?';
    const parameters = query.ruleId === undefined ? range : [...range, query.ruleId];
    const [hits, alerts] = await this.database.read(async (manager) => [
      await manager.query<{ start: string; rule_id: string; n: number }[]>(
        `SELECT strftime('${format}', "event_time") AS start, "rule_id", COUNT(*) AS n FROM "hits" WHERE "event_time" >= ? AND "event_time" < ?${rule} GROUP BY start, "rule_id"`,
        parameters,
      ),
      await manager.query<{ start: string; rule_id: string; n: number }[]>(
        `SELECT strftime('${format}', "first_event_time") AS start, "rule_id", COUNT(*) AS n FROM "alerts" WHERE "status" != 'pending' AND "first_event_time" >= ? AND "first_event_time" < ?${rule} GROUP BY start, "rule_id"`,
        parameters,
      ),
    ]);
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
    for (const row of hits) bucket(row.start, row.rule_id).hits += row.n;
    for (const row of alerts) bucket(row.start, row.rule_id).alerts += row.n;
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
    return {
      since: new Date(query.since).toISOString(),
      until: new Date(query.until).toISOString(),
      interval: query.interval,
      buckets: sorted,
      totals: [...totals.values()].sort((a, b) => b.hits - a.hits || (a.ruleId < b.ruleId ? -1 : 1)),
    };
  }
}
