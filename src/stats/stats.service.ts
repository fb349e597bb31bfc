// Hits and alerts per rule and per hour or day over a range of event time.
import { Inject, Injectable } from '@nestjs/common';
import { InvalidParametersError } from '../common/errors.js';
import { instant, rejectUnknown, single, type RawQuery } from '../common/query-params.js';
import { STATS_STORE, type StatsStore } from './stats-store.js';

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
  constructor(@Inject(STATS_STORE) private readonly store: StatsStore) {}

  async stats(query: StatsQuery): Promise<StatsAnswer> {
    const range = { since: query.since, until: query.until };
    const [hits, alerts] = await this.store.read(async (counts) => [
      await counts.hitsPerBucket(range, query.interval, query.ruleId),
      await counts.alertsPerBucket(range, query.interval, query.ruleId),
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
    for (const row of hits) bucket(row.start, row.ruleId).hits += row.count;
    for (const row of alerts) bucket(row.start, row.ruleId).alerts += row.count;
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
    const newest = await this.store.read((counts) => counts.newestHitTime(ruleId));
    if (newest === undefined) return undefined;
    return `no hit in this range of event time; the newest hit's event time is ${new Date(newest).toISOString()}: set since and until around it`;
  }
}
