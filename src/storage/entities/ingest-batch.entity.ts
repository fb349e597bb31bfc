import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One accepted POST of events: what came in and what it made. Hits name their batch. */
@Entity({ name: 'ingest_batches' })
export class IngestBatchEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'received_at' })
  receivedAt: Date;

  @Column({ type: 'integer' })
  received: number;

  @Column({ type: 'integer' })
  accepted: number;

  @Column({ type: 'integer' })
  rejected: number;

  @Column({ type: 'integer' })
  hits: number;

  @Column({ name: 'alerts_opened', type: 'integer' })
  alertsOpened: number;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200, nullable: true })
  idempotencyKey: string | null;
}
