import { Column, Entity, PrimaryColumn } from 'typeorm';

export const API_KEY_SCOPES = ['ingest', 'read', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An API key: its public id, what it may do, and only a hash of its secret. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  /** The public part of the key (`tl_<id>_…`), safe to show, log and audit. */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'simple-json' })
  scopes: ApiKeyScope[];

  /** sha256 of the whole key, hex; the key itself is shown once and never stored. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash: string;

  /** The key that created this one; null for the bootstrap key. */
  @Column({ name: 'created_by_key', type: 'varchar', length: 64, nullable: true })
  createdByKey: string | null;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt: Date | null;

  /** Updated at most once a minute, so that unused keys can be found and revoked. */
  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt: Date | null;
}
