import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AlertEntity } from './alert.entity.js';
import { IngestBatchEntity } from './ingest-batch.entity.js';
import { RuleVersionEntity } from './rule-version.entity.js';

/** One rule matching one event: the rule version that decided, its outputs, and the normalised event. */
@Entity({ name: 'hits' })
@Index('uq_hits_rule_event', ['ruleId', 'eventId'], { unique: true, where: '"event_id" IS NOT NULL' })
@Index('uq_hits_batch_seq', ['batchId', 'batchSeq'], { unique: true })
@Index('ix_hits_event_time', ['eventTime', 'id'])
@Index('ix_hits_rule_time', ['ruleId', 'eventTime', 'id'])
@Index('ix_hits_alert', ['alertId', 'eventTime', 'id'])
@Index('ix_hits_severity_time', ['severity', 'eventTime', 'id'])
@Index('ix_hits_log_type_time', ['logType', 'eventTime', 'id'])
export class HitEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'batch_id', type: 'integer' })
  batchId: number;

  /** Position of the hit within its batch. */
  @Column({ name: 'batch_seq', type: 'integer' })
  batchSeq: number;

  @ManyToOne(() => IngestBatchEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'batch_id', foreignKeyConstraintName: 'fk_hits_batch' })
  batch?: IngestBatchEntity;

  @Column({ name: 'rule_id', type: 'varchar', length: 200 })
  ruleId: string;

  @Column({ name: 'rule_version_id', type: 'integer' })
  ruleVersionId: number;

  @ManyToOne(() => RuleVersionEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'rule_version_id', foreignKeyConstraintName: 'fk_hits_rule_version' })
  ruleVersionRow?: RuleVersionEntity;

  @Column({ name: 'rule_version', type: 'integer' })
  ruleVersion: number;

  @Column({ type: 'varchar', length: 16 })
  severity: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ name: 'dedup_key', type: 'text' })
  dedupKey: string;

  @Column({ name: 'alert_id', type: 'integer', nullable: true })
  alertId: number | null;

  @ManyToOne(() => AlertEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'alert_id', foreignKeyConstraintName: 'fk_hits_alert' })
  alert?: AlertEntity;

  @Column({ name: 'log_type', type: 'varchar', length: 100 })
  logType: string;

  @Column({ name: 'event_time' })
  eventTime: Date;

  @Column({ name: 'received_at' })
  receivedAt: Date;

  /** The source's own event id (CloudTrail's eventID): one hit per rule and event, however often it is sent. */
  @Column({ name: 'event_id', type: 'varchar', length: 128, nullable: true })
  eventId: string | null;

  /** The rule's AlertContext values. */
  @Column({ name: 'output_fields', type: 'simple-json' })
  outputFields: Record<string, unknown>;

  @Column({ type: 'simple-json' })
  event: Record<string, unknown>;
}
