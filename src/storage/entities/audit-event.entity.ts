import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One change to rules, keys or alerts: who (key id), what (action), to what (target), and when. */
@Entity({ name: 'audit_events' })
@Index('ix_audit_events_time', ['at', 'id'])
@Index('ix_audit_events_target', ['targetType', 'targetId', 'id'])
@Index('ix_audit_events_key', ['keyId', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column()
  at: Date;

  /** The key that made the change; `system` for what the service does by itself (the built-in pack). */
  @Column({ name: 'key_id', type: 'varchar', length: 64 })
  keyId: string;

  /** e.g. rule.create, rule.update, rule.disable, rule.delete, key.create, key.revoke, alert.status */
  @Column({ type: 'varchar', length: 40 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 16 })
  targetType: 'rule' | 'api_key' | 'alert' | 'global_helper' | 'data_model';

  @Column({ name: 'target_id', type: 'varchar', length: 200 })
  targetId: string;

  /** What changed, in a few fields (a version number, scopes, a status); never a secret. */
  @Column({ type: 'simple-json', nullable: true })
  details: Record<string, unknown> | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;
}
