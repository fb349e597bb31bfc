// API keys in the database: creating, listing and revoking them, the first admin key at start, and
// authenticating a presented key. Every key record is held in memory, so that a request costs one hash
// and no query, whatever key it presents: a flood of made-up keys never reaches the database. A change
// made here takes effect at once; other instances sharing a PostgreSQL database see a revocation within
// KEY_CACHE_MS and a new key within UNKNOWN_KEY_RELOAD_MS.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SYSTEM_ACTOR, type Actor } from '../audit/audit.service.js';
import { NotFoundError } from '../common/errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import {
  ENV_ADMIN_KEY_ID,
  generateApiKey,
  hashApiKey,
  issuedKeyId,
  keyMatches,
  type ApiKeyScope,
} from './api-key.js';
import { API_KEY_STORE, type ApiKeyRecord, type ApiKeyStore } from './api-key-store.js';

/** How long the key records are trusted without reading them again. */
const KEY_CACHE_MS = 5_000;
/** An unknown key id reloads the records, at most this often (a key made on another instance). */
const UNKNOWN_KEY_RELOAD_MS = 1_000;
/** last_used_at is written at most this often per key, off the request path. */
const LAST_USED_EVERY_MS = 60_000;

export interface AuthenticatedKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
}

export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiKeys');
  private keys = new Map<string, ApiKeyRecord>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  /** Counts changes made here, so that a read that began before one is not trusted after it. */
  private changes = 0;
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    @Inject(API_KEY_STORE) private readonly store: ApiKeyStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureOperatorKey();
  }

  /**
   * TRIPLINE_ADMIN_KEY is stored as the admin key `env-admin`: a changed value replaces the old one, and
   * it stays valid until revoked, set or not.
   */
  private async ensureOperatorKey(): Promise<void> {
    const given = this.config.auth.adminKey;
    if (given === undefined) return;
    await this.store.write(async (keys) => {
      // Instances starting together on one database decide this one at a time.
      await keys.lockBootstrap();
      const existing = await keys.findKey(ENV_ADMIN_KEY_ID);
      const secretHash = hashApiKey(given);
      if (existing?.secretHash === secretHash) {
        if (existing.revokedAt)
          this.logger.warn('TRIPLINE_ADMIN_KEY was revoked; it stays revoked until it is changed');
        return;
      }
      await keys.saveKey(this.newRecord(ENV_ADMIN_KEY_ID, 'TRIPLINE_ADMIN_KEY', ['admin'], secretHash, null));
      await keys.recordAudit(SYSTEM_ACTOR, {
        action: existing ? 'key.rotate' : 'key.create',
        targetType: 'api_key',
        targetId: ENV_ADMIN_KEY_ID,
        details: { scopes: ['admin'], from: 'TRIPLINE_ADMIN_KEY' },
      });
    });
    this.forget();
  }

  /**
   * Called once the server listens (main.ts), so that a start that fails (a port in use) never makes a
   * key it could not show: a database with no key at all, and no TRIPLINE_ADMIN_KEY, gets one admin key,
   * printed this once. Otherwise says that keys exist and how to get a new admin key, at every start.
   */
  async issueFirstKeyIfNone(): Promise<void> {
    if (this.config.auth.adminKey !== undefined) return;
    const outcome = await this.store.write(async (keys) => {
      await keys.lockBootstrap();
      const active = await keys.countActiveKeys();
      if ((await keys.countKeys()) > 0) return { active };
      const issued = generateApiKey();
      await keys.saveKey(this.newRecord(issued.id, 'bootstrap', ['admin'], hashApiKey(issued.key), null));
      await keys.recordAudit(SYSTEM_ACTOR, {
        action: 'key.create',
        targetType: 'api_key',
        targetId: issued.id,
        details: { name: 'bootstrap', scopes: ['admin'] },
      });
      return { issued: issued.key };
    });
    this.forget();
    if ('issued' in outcome) {
      // A warning, so that it shows at every log level but error; it is never printed again.
      this.logger.warn(
        `No API key existed, so an admin key was created. It is shown this once; store it now: ${outcome.issued}`,
      );
    } else {
      this.logger.log(
        `${outcome.active} API key${outcome.active === 1 ? '' : 's'} active; keys are shown only when made. Lost the admin key? Start with TRIPLINE_ADMIN_KEY set to a new one (32+ characters) to get an admin key`,
      );
    }
  }

  async create(
    name: string,
    scopes: ApiKeyScope[],
    actor: Actor,
  ): Promise<{ key: string; apiKey: ApiKeyView }> {
    const issued = generateApiKey();
    const unique = [...new Set(scopes)];
    const record = await this.store.write(async (keys) => {
      const saved = await keys.saveKey(
        this.newRecord(issued.id, name, unique, hashApiKey(issued.key), actor.keyId),
      );
      await keys.recordAudit(actor, {
        action: 'key.create',
        targetType: 'api_key',
        targetId: issued.id,
        details: { name, scopes: unique },
      });
      return saved;
    });
    this.forget();
    return { key: issued.key, apiKey: apiKeyView(record) };
  }

  async list(): Promise<ApiKeyView[]> {
    const records = await this.store.read((keys) => keys.allKeys());
    return records.map(apiKeyView);
  }

  /** Revokes a key; it fails on its next request. Revoking a revoked key changes nothing. */
  async revoke(id: string, actor: Actor): Promise<ApiKeyView> {
    const record = await this.store.write(async (keys) => {
      const found = await keys.findKey(id);
      if (!found) throw new NotFoundError('api_key', id);
      if (found.revokedAt) return found;
      found.revokedAt = new Date();
      await keys.saveKey(found);
      await keys.recordAudit(actor, {
        action: 'key.revoke',
        targetType: 'api_key',
        targetId: id,
        details: { name: found.name },
      });
      return found;
    });
    this.forget();
    return apiKeyView(record);
  }

  /** The key a token stands for, or undefined when it is unknown, wrong or revoked. */
  async authenticate(token: string): Promise<AuthenticatedKey | undefined> {
    const id = issuedKeyId(token);
    let keys = await this.records(KEY_CACHE_MS);
    if (id !== undefined && !keys.has(id)) keys = await this.records(UNKNOWN_KEY_RELOAD_MS);
    // An operator's TRIPLINE_ADMIN_KEY may have any shape, even that of an issued key.
    const record = (id !== undefined ? keys.get(id) : undefined) ?? keys.get(ENV_ADMIN_KEY_ID);
    if (!record || record.revokedAt || !keyMatches(token, record.secretHash)) return undefined;
    this.noteUse(record.id);
    return { id: record.id, name: record.name, scopes: record.scopes };
  }

  /** Every key record, read again when older than `maxAgeMs` (one read at a time). */
  private async records(maxAgeMs: number): Promise<ReadonlyMap<string, ApiKeyRecord>> {
    // A read that a change here overtook is not trusted: read again.
    while (Date.now() - this.loadedAt >= maxAgeMs) {
      this.loading ??= this.load().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.keys;
  }

  private async load(): Promise<void> {
    const changesBefore = this.changes;
    const records = await this.store.read((keys) => keys.allKeys());
    this.keys = new Map(records.map((record) => [record.id, record]));
    if (this.changes === changesBefore) this.loadedAt = Date.now();
  }

  /** After a change here: the next request reads the records again. */
  private forget(): void {
    this.changes++;
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  private noteUse(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(id, now);
    this.store
      .write((keys) => keys.noteLastUsed(id, new Date(now)))
      .catch((error: unknown) => {
        this.logger.warn(`could not record the use of key ${id}: ${String(error)}`);
      });
  }

  private newRecord(
    id: string,
    name: string,
    scopes: ApiKeyScope[],
    secretHash: string,
    createdBy: string | null,
  ): ApiKeyRecord {
    return {
      id,
      name,
      scopes,
      secretHash,
      createdByKey: createdBy,
      createdAt: new Date(),
      revokedAt: null,
      lastUsedAt: null,
    };
  }
}

function apiKeyView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdByKey,
    revokedAt: record.revokedAt?.toISOString() ?? null,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
  };
}
