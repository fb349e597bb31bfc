import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What Panther's Python rules run with besides their own source: a global helper (a module rules import
 * by its GlobalID) or a data model (the names `event.udm()` reads, per log type).
 */
export type LibraryKind = 'global' | 'datamodel';

/** A helper or data model by its id: which version is current. Versions live in library_versions. */
@Entity({ name: 'library_items' })
export class LibraryItemEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  kind: LibraryKind;

  /** GlobalID or DataModelID. */
  @PrimaryColumn({ name: 'item_id', type: 'varchar', length: 200 })
  itemId: string;

  @Column({ name: 'current_version', type: 'integer' })
  currentVersion: number;

  /** library_versions.id of the current version. */
  @Column({ name: 'current_version_id', type: 'integer' })
  currentVersionId: number;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;

  /** Deleted items keep their row and versions: a rule version still names what it was tested with. */
  @Column({ name: 'deleted_at', type: Date, nullable: true })
  deletedAt: Date | null;
}
