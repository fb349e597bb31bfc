import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RuleVersionEntity } from './rule-version.entity.js';

/** A rule by its RuleID: which version is current, and whether it runs. Versions live in rule_versions. */
@Entity({ name: 'rules' })
export class RuleEntity {
  @PrimaryColumn({ name: 'rule_id', type: 'varchar', length: 200 })
  ruleId: string;

  @Column({ name: 'current_version', type: 'integer' })
  currentVersion: number;

  /** rule_versions.id of the current version. */
  @Column({ name: 'current_version_id', type: 'integer' })
  currentVersionId: number;

  @ManyToOne(() => RuleVersionEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'current_version_id', foreignKeyConstraintName: 'fk_rules_current_version' })
  currentVersionRow?: RuleVersionEntity;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;

  /** Errors raised while evaluating this rule on an event (the event still goes to the other rules). */
  @Column({ name: 'error_count', type: 'integer', default: 0 })
  errorCount: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_error_at', type: Date, nullable: true })
  lastErrorAt: Date | null;

  /** Deleted rules keep their row (and every version) so that old hits can still name them. */
  @Column({ name: 'deleted_at', type: Date, nullable: true })
  deletedAt: Date | null;
}
