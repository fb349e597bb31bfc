// API keys in the database: the ApiKeyStore the API keys service asks for (auth/api-key-store.ts). Each
// unit of work gets an ApiKeysRepository on its transaction's EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import { IsNull, type EntityManager } from 'typeorm';
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import type { ApiKeyRecord, ApiKeyStore, ApiKeyTransaction } from '../auth/api-key-store.js';
import { insertAuditEvent } from './audit.repository.js';
import { ApiKeyEntity } from './entities.js';
import { lockNames } from './sql.js';

export const openApiKeyStore = (database: Database): ApiKeyStore =>
  new DatabaseStore(database, ApiKeysRepository);

/** The API keys' SQL, in the transaction (or, for reads, on the connection) of one unit of work. */
export class ApiKeysRepository implements ApiKeyTransaction {
  constructor(private readonly manager: EntityManager) {}

  lockBootstrap(): Promise<void> {
    return lockNames(this.manager, 'api-keys', ['bootstrap']);
  }

  findKey(id: string): Promise<ApiKeyRecord | null> {
    return this.manager.findOneBy(ApiKeyEntity, { id });
  }

  allKeys(): Promise<ApiKeyRecord[]> {
    return this.manager.find(ApiKeyEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  countKeys(): Promise<number> {
    return this.manager.count(ApiKeyEntity);
  }

  countActiveKeys(): Promise<number> {
    return this.manager.countBy(ApiKeyEntity, { revokedAt: IsNull() });
  }

  saveKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    // A record read here is an entity already; a new one becomes one, so that save inserts it.
    const entity = record instanceof ApiKeyEntity ? record : Object.assign(new ApiKeyEntity(), record);
    return this.manager.save(entity);
  }

  async noteLastUsed(id: string, at: Date): Promise<void> {
    await this.manager.update(ApiKeyEntity, { id }, { lastUsedAt: at });
  }

  recordAudit(actor: Actor, entry: AuditEntry): Promise<void> {
    return insertAuditEvent(this.manager, actor, entry);
  }
}
