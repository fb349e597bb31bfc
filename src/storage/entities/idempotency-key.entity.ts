import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A POST made with an Idempotency-Key: a retry with the same key and body gets the same answer. */
@Entity({ name: 'idempotency_keys' })
@Index('ix_idempotency_keys_created', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key: string;

  /** sha256 of the request body: the same key with another body is refused. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ type: 'simple-json' })
  response: Record<string, unknown>;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
