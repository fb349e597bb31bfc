// What the hits service needs from storage, in its own terms. A HitStore runs reads; each gets a
// HitReader whose queries all see the same data. storage/hits.repository.ts reads them from the database.
import type { RuleVersionEntity } from '../storage/entities.js';
import type { HitFilters } from './hit-filters.js';
import type { HitRow } from './hit-views.js';

/** Injection token of the HitStore (an interface leaves nothing at run time to inject by). */
export const HIT_STORE = Symbol('HIT_STORE');

export interface HitStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (hits: HitReader) => Promise<T>): Promise<T>;
}

export interface HitReader {
  /**
   * The newest hits that pass the filters and have the one severity given (any, when undefined), after
   * the filters' cursor: at most `filters.limit + 1` of them, so that the caller knows whether more follow.
   */
  newestHits(filters: HitFilters, severity: string | undefined): Promise<HitRow[]>;
  findHit(id: number): Promise<HitRow | null>;
  /** The rule version a hit was made by; versions are never deleted. */
  ruleVersion(id: number): Promise<RuleVersionEntity>;
}
