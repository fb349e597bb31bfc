import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AlertEntity, type AlertStatus } from './alert.entity.js';

/** Triage history: every status change of an alert, with its time and comment. */
@Entity({ name: 'alert_status_changes' })
@Index('ix_alert_status_changes_alert', ['alertId', 'id'])
export class AlertStatusChangeEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'alert_id', type: 'integer' })
  alertId: number;

  @ManyToOne(() => AlertEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alert_id', foreignKeyConstraintName: 'fk_alert_status_changes_alert' })
  alert?: AlertEntity;

  @Column({ name: 'from_status', type: 'varchar', length: 16 })
  fromStatus: AlertStatus;

  @Column({ name: 'to_status', type: 'varchar', length: 16 })
  toStatus: AlertStatus;

  @Column({ type: 'text', nullable: true })
  comment: string | null;

  /** The API key that made the change, once keys exist. */
  @Column({ name: 'changed_by_key', type: 'varchar', length: 64, nullable: true })
  changedByKey: string | null;

  @Column({ name: 'changed_at' })
  changedAt: Date;
}
