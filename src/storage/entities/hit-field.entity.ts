import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { HitEntity } from './hit.entity.js';

/**
 * Output fields and p_any_* indicators of a hit as name/value rows, indexed so that hits can be found by
 * any of them: one row per value (a list gives a row per element; an object its JSON text).
 */
@Entity({ name: 'hit_fields' })
@Index('ix_hit_fields_lookup', ['name', 'value', 'eventTime', 'hitId'])
export class HitFieldEntity {
  @PrimaryColumn({ name: 'hit_id', type: 'integer' })
  hitId: number;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  name: string;

  @PrimaryColumn({ type: 'varchar', length: 1000 })
  value: string;

  /** The hit's event time, so that a search by field reads its index already newest first. */
  @Column({ name: 'event_time' })
  eventTime: Date;

  @ManyToOne(() => HitEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'hit_id', foreignKeyConstraintName: 'fk_hit_fields_hit' })
  hit?: HitEntity;
}
