import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One key of the rules' cache (Panther's panther_detection_helpers.caching): a counter, a string set and
 * a dictionary side by side under one expiry, as Panther's table has. Shared by every worker and instance.
 */
@Entity({ name: 'rule_cache_entries' })
@Index('ix_rule_cache_entries_expires', ['expiresAt'])
export class RuleCacheEntryEntity {
  @PrimaryColumn({ name: 'cache_key', type: 'varchar', length: 512 })
  cacheKey: string;

  @Column({ type: 'bigint' })
  counter: string;

  /** JSON array of strings. */
  @Column({ type: 'text' })
  strings: string;

  /** JSON object. */
  @Column({ type: 'text' })
  dictionary: string;

  /** Epoch seconds; an entry past it reads as absent. */
  @Column({ name: 'expires_at', type: 'bigint' })
  expiresAt: string;
}
