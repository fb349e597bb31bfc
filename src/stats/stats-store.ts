// What the stats and coverage services need from storage, in their own terms: counts of hits and alerts
// per rule over a range of event time. storage/stats.repository.ts counts them in the database.
import type { Interval } from './stats.service.js';

/** Injection token of the StatsStore (an interface leaves nothing at run time to inject by). */
export const STATS_STORE = Symbol('STATS_STORE');

export interface StatsStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (counts: StatsReader) => Promise<T>): Promise<T>;
}

/** A range of event time (epoch ms): `since` inclusive, `until` exclusive; either may be open. */
export interface EventTimeRange {
  since?: number;
  until?: number;
}

/** How many hits or alerts one rule has in one hour or day. */
export interface BucketCount {
  /** The bucket's start, ISO 8601 in UTC. */
  start: string;
  ruleId: string;
  count: number;
}

export interface StatsReader {
  /** Hits per rule and bucket of event time, in the range; only one rule's when `ruleId` is given. */
  hitsPerBucket(range: Required<EventTimeRange>, interval: Interval, ruleId?: string): Promise<BucketCount[]>;
  /**
   * Triaged and untriaged alerts (not pending ones) per rule and bucket of their first event time, in
   * the range; only one rule's when `ruleId` is given.
   */
  alertsPerBucket(
    range: Required<EventTimeRange>,
    interval: Interval,
    ruleId?: string,
  ): Promise<BucketCount[]>;
  /** The event time (epoch ms) of the newest hit, of one rule when given; undefined when none. */
  newestHitTime(ruleId?: string): Promise<number | undefined>;
  /** Hits per rule of the rules that exist, in the range. */
  hitsPerRule(range: EventTimeRange): Promise<Map<string, number>>;
}
