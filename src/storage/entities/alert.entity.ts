import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** pending: fewer hits than the rule's Threshold so far (not shown as an alert yet). */
export type AlertStatus = 'pending' | 'open' | 'acknowledged' | 'closed';

/**
 * Hits of one rule with one dedup key whose event times fall within DedupPeriodMinutes of the first
 * one's. The clock is the event time, so replayed and late events group as they happened.
 */
@Entity({ name: 'alerts' })
@Index('ix_alerts_group', ['ruleId', 'dedupKey', 'firstEventTime'])
@Index('ix_alerts_time', ['firstEventTime', 'id'])
@Index('ix_alerts_status_time', ['status', 'firstEventTime', 'id'])
@Index('ix_alerts_rule_time', ['ruleId', 'firstEventTime', 'id'])
@Index('ix_alerts_severity_time', ['severity', 'firstEventTime', 'id'])
export class AlertEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'rule_id', type: 'varchar', length: 200 })
  ruleId: string;

  @Column({ name: 'dedup_key', type: 'text' })
  dedupKey: string;

  @Column({ type: 'text' })
  title: string;

  /** The highest severity of its hits. */
  @Column({ type: 'varchar', length: 16 })
  severity: string;

  @Column({ type: 'varchar', length: 16 })
  status: AlertStatus;

  @Column({ name: 'first_event_time' })
  firstEventTime: Date;

  @Column({ name: 'last_event_time' })
  lastEventTime: Date;

  /** first_event_time + the rule's DedupPeriodMinutes: later hits start a new alert. */
  @Column({ name: 'window_end' })
  windowEnd: Date;

  @Column({ name: 'hit_count', type: 'integer' })
  hitCount: number;

  /** The rule's Threshold when the alert began: it opens at this many hits. */
  @Column({ type: 'integer' })
  threshold: number;

  @Column({ name: 'opened_at', type: Date, nullable: true })
  openedAt: Date | null;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}
