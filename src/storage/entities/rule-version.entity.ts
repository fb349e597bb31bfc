import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type RuleOrigin = 'builtin' | 'api' | 'import';

/** What the rule list filters and shows without re-reading the source. */
export interface RuleVersionMetadata {
  analysisType: 'rule' | 'scheduled_rule';
  displayName: string | null;
  description: string | null;
  severity: string;
  logTypes: string[];
  tags: string[];
  reports: Record<string, string[]>;
  /** The rule format's name, as in `format`. */
  detectionLanguage: string;
  dedupPeriodMinutes: number;
  threshold: number;
  createAlert: boolean;
  /** The `Enabled` key as written in this version's source. */
  enabledInSource: boolean;
}

/** Versions of the helpers and data models present when a rule version's tests ran, by id. */
export interface LibraryVersions {
  globals: Record<string, number>;
  dataModels: Record<string, number>;
}

/** One immutable version of a rule: its full source as uploaded and what was parsed from it. */
@Entity({ name: 'rule_versions' })
@Index('uq_rule_versions_rule_version', ['ruleId', 'version'], { unique: true })
export class RuleVersionEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'rule_id', type: 'varchar', length: 200 })
  ruleId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ name: 'source_text', type: 'text' })
  sourceText: string;

  /**
   * The rule format this source is read back with (formats/registry.ts). The default only fills rows
   * older than the column; every write sets it.
   */
  @Column({ type: 'varchar', length: 32, default: 'panther' })
  format: string;

  @Column({ name: 'source_format', type: 'varchar', length: 8 })
  sourceFormat: 'yaml' | 'json';

  /** sha256 of the source text: an upload identical to the current version stores nothing. */
  @Column({ name: 'content_hash', type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'simple-json' })
  metadata: RuleVersionMetadata;

  @Column({ type: 'varchar', length: 16 })
  origin: RuleOrigin;

  /** The API key that made this version, once keys exist; null for the built-in pack. */
  @Column({ name: 'created_by_key', type: 'varchar', length: 64, nullable: true })
  createdByKey: string | null;

  /**
   * For a Python rule, the version of each global helper and data model it was tested with, by id; null
   * for the other formats.
   */
  @Column({ name: 'library_versions', type: 'simple-json', nullable: true })
  libraryVersions: LibraryVersions | null;

  @Column({ name: 'tests_passed', type: 'integer' })
  testsPassed: number;

  @Column({ name: 'tests_failed', type: 'integer' })
  testsFailed: number;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
