// What the API keys service needs from storage, in its own terms. An ApiKeyStore runs units of work; each
// gets an ApiKeyTransaction whose reads and writes are all committed together, or none.
// storage/api-keys.repository.ts keeps the keys in the database.
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import type { ApiKeyEntity } from '../storage/entities.js';

/** Injection token of the ApiKeyStore (an interface leaves nothing at run time to inject by). */
export const API_KEY_STORE = Symbol('API_KEY_STORE');

export interface ApiKeyStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (keys: ApiKeyTransaction) => Promise<T>): Promise<T>;
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  write<T>(work: (keys: ApiKeyTransaction) => Promise<T>): Promise<T>;
}

/** A stored key: its hash, never the key itself. */
export type ApiKeyRecord = Pick<
  ApiKeyEntity,
  'id' | 'name' | 'scopes' | 'secretHash' | 'createdByKey' | 'createdAt' | 'revokedAt' | 'lastUsedAt'
>;

export interface ApiKeyTransaction {
  /** Instances starting together on one database make the first keys one at a time. */
  lockBootstrap(): Promise<void>;
  findKey(id: string): Promise<ApiKeyRecord | null>;
  /** Every key, revoked or not, oldest first. */
  allKeys(): Promise<ApiKeyRecord[]>;
  countKeys(): Promise<number>;
  countActiveKeys(): Promise<number>;
  /** Creates the key, or writes the changes made to one read in this transaction. */
  saveKey(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  noteLastUsed(id: string, at: Date): Promise<void>;
  /** Records a change in the audit trail, in this transaction. */
  recordAudit(actor: Actor, entry: AuditEntry): Promise<void>;
}
