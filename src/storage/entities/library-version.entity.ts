import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LibraryKind } from './library-item.entity.js';
import type { RuleOrigin } from './rule-version.entity.js';

/** One immutable version of a global helper or data model: its source as uploaded (YAML with its Body). */
@Entity({ name: 'library_versions' })
@Index('uq_library_versions_item_version', ['kind', 'itemId', 'version'], { unique: true })
export class LibraryVersionEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  kind: LibraryKind;

  @Column({ name: 'item_id', type: 'varchar', length: 200 })
  itemId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ name: 'source_text', type: 'text' })
  sourceText: string;

  @Column({ name: 'source_format', type: 'varchar', length: 8 })
  sourceFormat: 'yaml' | 'json';

  /** sha256 of the source text: an upload identical to the current version stores nothing. */
  @Column({ name: 'content_hash', type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'varchar', length: 16 })
  origin: RuleOrigin;

  @Column({ name: 'created_by_key', type: 'varchar', length: 64, nullable: true })
  createdByKey: string | null;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
