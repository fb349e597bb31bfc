// A RuleStore in memory, for unit specs of the rules service and the active rule set: it keeps what the
// database keeps and answers as it does (copies, not shared rows), and a write that throws leaves
// nothing behind.
import type { Actor, AuditEntry } from '../../src/audit/audit.service.js';
import type {
  ActiveRuleSource,
  CurrentVersionChange,
  NewLibraryVersion,
  NewRule,
  NewRuleVersion,
  PackRuleState,
  RuleStore,
  RuleTransaction,
  StoredLibraryItem,
  StoredRule,
} from '../../src/rules/rule-store.js';
import type {
  LibraryItemEntity,
  LibraryKind,
  LibraryVersionEntity,
  RuleEntity,
  RuleVersionEntity,
} from '../../src/storage/entities.js';

interface RuleTables {
  rules: Map<string, RuleEntity>;
  versions: RuleVersionEntity[];
  libraryItems: Map<string, LibraryItemEntity>;
  libraryVersions: LibraryVersionEntity[];
  audit: { actor: Actor; entry: AuditEntry }[];
}

export class InMemoryRuleStore implements RuleStore {
  private tables: RuleTables = {
    rules: new Map(),
    versions: [],
    libraryItems: new Map(),
    libraryVersions: [],
    audit: [],
  };
  /** Units of work run one at a time, as SQLite runs them. */
  private tail: Promise<unknown> = Promise.resolve();

  /** Every rule row, deleted ones too, ordered by RuleID. */
  get rules(): RuleEntity[] {
    return [...this.tables.rules.values()]
      .sort((a, b) => compare(a.ruleId, b.ruleId))
      .map((rule) => structuredClone(rule));
  }

  /** Every stored version, in the order stored. */
  get versions(): RuleVersionEntity[] {
    return structuredClone(this.tables.versions);
  }

  /** The audit trail, oldest first. */
  get audit(): { actor: Actor; entry: AuditEntry }[] {
    return structuredClone(this.tables.audit);
  }

  read<T>(work: (rules: RuleTransaction) => Promise<T>): Promise<T> {
    return this.enqueue(() => work(new InMemoryRuleTransaction(this.tables)));
  }

  write<T>(work: (rules: RuleTransaction) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      const before = structuredClone(this.tables);
      try {
        return await work(new InMemoryRuleTransaction(this.tables));
      } catch (error) {
        this.tables = before;
        throw error;
      }
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

class InMemoryRuleTransaction implements RuleTransaction {
  constructor(private readonly tables: RuleTables) {}

  lockRules(): Promise<void> {
    return Promise.resolve();
  }

  findRule(ruleId: string): Promise<RuleEntity | null> {
    const rule = this.tables.rules.get(ruleId);
    return Promise.resolve(rule ? structuredClone(rule) : null);
  }

  currentVersionOf(rule: RuleEntity): Promise<RuleVersionEntity> {
    const version = this.tables.versions.find((candidate) => candidate.id === rule.currentVersionId);
    if (!version) return Promise.reject(new Error(`no version ${rule.currentVersionId}`));
    return Promise.resolve(structuredClone(version));
  }

  version(ruleId: string, version: number): Promise<RuleVersionEntity | null> {
    const found = this.tables.versions.find(
      (candidate) => candidate.ruleId === ruleId && candidate.version === version,
    );
    return Promise.resolve(found ? structuredClone(found) : null);
  }

  versions(ruleId: string): Promise<RuleVersionEntity[]> {
    return Promise.resolve(
      structuredClone(
        this.tables.versions
          .filter((version) => version.ruleId === ruleId)
          .sort((a, b) => a.version - b.version),
      ),
    );
  }

  lastVersionNumber(ruleId: string): Promise<number> {
    return Promise.resolve(
      Math.max(0, ...this.tables.versions.filter((v) => v.ruleId === ruleId).map((v) => v.version)),
    );
  }

  async currentRules(): Promise<StoredRule[]> {
    const live = [...this.tables.rules.values()]
      .filter((rule) => rule.deletedAt === null)
      .sort((a, b) => compare(a.ruleId, b.ruleId));
    const stored: StoredRule[] = [];
    for (const rule of live)
      stored.push({ rule: structuredClone(rule), version: await this.currentVersionOf(rule) });
    return stored;
  }

  insertVersion(fields: NewRuleVersion): Promise<RuleVersionEntity> {
    if (this.tables.versions.some((v) => v.ruleId === fields.ruleId && v.version === fields.version))
      return Promise.reject(new Error(`version ${fields.ruleId}@${fields.version} exists`));
    const version: RuleVersionEntity = { ...structuredClone(fields), id: this.tables.versions.length + 1 };
    this.tables.versions.push(version);
    return Promise.resolve(structuredClone(version));
  }

  insertRule(fields: NewRule): Promise<RuleEntity> {
    if (this.tables.rules.has(fields.ruleId))
      return Promise.reject(new Error(`rule ${fields.ruleId} exists`));
    const rule: RuleEntity = {
      ...structuredClone(fields),
      errorCount: 0,
      lastError: null,
      lastErrorAt: null,
    };
    this.tables.rules.set(rule.ruleId, rule);
    return Promise.resolve(structuredClone(rule));
  }

  saveRule(rule: RuleEntity): Promise<void> {
    if (!this.tables.rules.has(rule.ruleId)) return Promise.reject(new Error(`no rule ${rule.ruleId}`));
    this.tables.rules.set(rule.ruleId, structuredClone(rule));
    return Promise.resolve();
  }

  async packStates(ruleIds: readonly string[]): Promise<Map<string, PackRuleState>> {
    const states = new Map<string, PackRuleState>();
    for (const ruleId of ruleIds) {
      const rule = this.tables.rules.get(ruleId);
      if (!rule) continue;
      const versions = this.tables.versions.filter((version) => version.ruleId === ruleId);
      states.set(ruleId, {
        rule: structuredClone(rule),
        current: await this.currentVersionOf(rule),
        lastVersion: await this.lastVersionNumber(ruleId),
        userVersions: versions.filter((version) => version.origin !== 'builtin').length,
      });
    }
    return states;
  }

  async insertVersions(versions: readonly NewRuleVersion[]): Promise<RuleVersionEntity[]> {
    const stored: RuleVersionEntity[] = [];
    for (const version of versions) stored.push(await this.insertVersion(version));
    return stored;
  }

  async insertRules(rules: readonly NewRule[]): Promise<void> {
    for (const rule of rules) await this.insertRule(rule);
  }

  async setCurrentVersions(changes: readonly CurrentVersionChange[]): Promise<void> {
    for (const change of changes) {
      const rule = this.tables.rules.get(change.ruleId);
      if (!rule) throw new Error(`no rule ${change.ruleId}`);
      await this.saveRule(Object.assign(structuredClone(rule), change));
    }
  }

  async enabledCurrentSources(): Promise<ActiveRuleSource[]> {
    const sources: ActiveRuleSource[] = [];
    for (const { rule, version } of await this.currentRules()) {
      if (!rule.enabled) continue;
      sources.push({
        versionId: version.id,
        ruleId: version.ruleId,
        version: version.version,
        source: version.sourceText,
        format: version.format,
      });
    }
    return sources;
  }

  findLibraryItem(kind: LibraryKind, itemId: string): Promise<LibraryItemEntity | null> {
    const item = this.tables.libraryItems.get(`${kind}:${itemId}`);
    return Promise.resolve(item ? structuredClone(item) : null);
  }

  currentLibraryVersionOf(item: LibraryItemEntity): Promise<LibraryVersionEntity> {
    const version = this.tables.libraryVersions.find((candidate) => candidate.id === item.currentVersionId);
    if (!version) return Promise.reject(new Error(`no version ${item.currentVersionId}`));
    return Promise.resolve(structuredClone(version));
  }

  libraryVersions(kind: LibraryKind, itemId: string): Promise<LibraryVersionEntity[]> {
    return Promise.resolve(
      structuredClone(
        this.tables.libraryVersions
          .filter((version) => version.kind === kind && version.itemId === itemId)
          .sort((a, b) => a.version - b.version),
      ),
    );
  }

  currentLibrary(): Promise<StoredLibraryItem[]> {
    const live = [...this.tables.libraryItems.values()]
      .filter((item) => item.deletedAt === null)
      .sort((a, b) => compare(a.kind, b.kind) || compare(a.itemId, b.itemId));
    return Promise.resolve(
      live.map((item) => {
        const version = this.tables.libraryVersions.find((v) => v.id === item.currentVersionId);
        if (!version) throw new Error(`no version ${item.currentVersionId}`);
        return structuredClone({ item, version });
      }),
    );
  }

  async storeLibraryVersion(fields: NewLibraryVersion): Promise<StoredLibraryItem> {
    const previous = await this.libraryVersions(fields.kind, fields.itemId);
    const version: LibraryVersionEntity = {
      ...structuredClone(fields),
      id: this.tables.libraryVersions.length + 1,
      version: (previous.at(-1)?.version ?? 0) + 1,
    };
    this.tables.libraryVersions.push(version);
    const key = `${fields.kind}:${fields.itemId}`;
    const existing = this.tables.libraryItems.get(key);
    const item: LibraryItemEntity = {
      kind: fields.kind,
      itemId: fields.itemId,
      currentVersion: version.version,
      currentVersionId: version.id,
      createdAt: existing && existing.deletedAt === null ? existing.createdAt : fields.createdAt,
      updatedAt: fields.createdAt,
      deletedAt: null,
    };
    this.tables.libraryItems.set(key, item);
    return structuredClone({ item, version });
  }

  deleteLibraryItem(kind: LibraryKind, itemId: string, at: Date): Promise<void> {
    const item = this.tables.libraryItems.get(`${kind}:${itemId}`);
    if (item && item.deletedAt === null) Object.assign(item, { deletedAt: at, updatedAt: at });
    return Promise.resolve();
  }

  rulesStamp(): Promise<string> {
    const rules = [...this.tables.rules.values()].sort((a, b) => compare(a.ruleId, b.ruleId));
    const library = [...this.tables.libraryItems.values()].sort(
      (a, b) => compare(a.kind, b.kind) || compare(a.itemId, b.itemId),
    );
    return Promise.resolve(
      [
        ...rules.map(
          (rule) => `${rule.ruleId}:${rule.currentVersionId}:${rule.enabled}:${rule.deletedAt === null}`,
        ),
        ...library.map(
          (item) => `${item.kind}:${item.itemId}:${item.currentVersionId}:${item.deletedAt === null}`,
        ),
      ].join(','),
    );
  }

  recordAudit(actor: Actor, entry: AuditEntry): Promise<void> {
    this.tables.audit.push(structuredClone({ actor, entry }));
    return Promise.resolve();
  }

  async recordAudits(actor: Actor, entries: readonly AuditEntry[]): Promise<void> {
    for (const entry of entries) await this.recordAudit(actor, entry);
  }
}

/** Byte order, as the database compares RuleIDs (they are ASCII). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
