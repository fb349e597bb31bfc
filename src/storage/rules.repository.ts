// Rules and their versions in the database: the RuleStore the rules service and the active rule set ask
// for (rules/rule-store.ts). Each unit of work gets a RulesRepository on its transaction's EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import { In, IsNull, type EntityManager } from 'typeorm';
import type { Actor, AuditEntry } from '../audit/audit.service.js';
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
} from '../rules/rule-store.js';
import { insertAuditEvent, insertAuditEvents } from './audit.repository.js';
import {
  LibraryItemEntity,
  LibraryVersionEntity,
  RuleEntity,
  RuleVersionEntity,
  type LibraryKind,
} from './entities.js';
import {
  chunksFor,
  dialectOf,
  lockNames,
  query,
  readCount,
  sqlTime,
  valuesList,
  type SqlDialect,
} from './sql.js';

/** Changes to one rule (a version, its state) are made one at a time, also across instances. */
const RULE_LOCKS = 'rule';
/** Changes to one helper or data model, likewise. */
const LIBRARY_LOCKS = 'library';
/** The columns the pack's bulk writes fill (the others take their defaults). */
const VERSION_COLUMNS = [
  '"rule_id"',
  '"version"',
  '"source_text"',
  '"format"',
  '"source_format"',
  '"content_hash"',
  '"metadata"',
  '"origin"',
  '"created_by_key"',
  '"tests_passed"',
  '"tests_failed"',
  '"library_versions"',
  '"created_at"',
];
const RULE_COLUMNS = [
  '"rule_id"',
  '"current_version"',
  '"current_version_id"',
  '"enabled"',
  '"created_at"',
  '"updated_at"',
  '"deleted_at"',
];

/** A boolean as a query parameter: SQLite keeps TypeORM's 1 and 0. */
function sqlBoolean(dialect: SqlDialect, value: boolean): boolean | number {
  return dialect === 'postgres' ? value : value ? 1 : 0;
}

export const openRuleStore = (database: Database): RuleStore => new DatabaseStore(database, RulesRepository);

/** The rules' SQL, in the transaction (or, for reads, on the connection) of one unit of work. */
export class RulesRepository implements RuleTransaction {
  constructor(private readonly manager: EntityManager) {}

  lockRules(ruleIds: readonly string[]): Promise<void> {
    return lockNames(this.manager, RULE_LOCKS, ruleIds);
  }

  findRule(ruleId: string): Promise<RuleEntity | null> {
    return this.manager.findOne(RuleEntity, { where: { ruleId } });
  }

  currentVersionOf(rule: RuleEntity): Promise<RuleVersionEntity> {
    return this.manager.findOneOrFail(RuleVersionEntity, { where: { id: rule.currentVersionId } });
  }

  version(ruleId: string, version: number): Promise<RuleVersionEntity | null> {
    return this.manager.findOne(RuleVersionEntity, { where: { ruleId, version } });
  }

  versions(ruleId: string): Promise<RuleVersionEntity[]> {
    return this.manager.find(RuleVersionEntity, { where: { ruleId }, order: { version: 'ASC' } });
  }

  async lastVersionNumber(ruleId: string): Promise<number> {
    const row = await this.manager
      .createQueryBuilder(RuleVersionEntity, 'version')
      .select('MAX(version.version)', 'last')
      .where('version.rule_id = :ruleId', { ruleId })
      .getRawOne<{ last: number | null }>();
    return row?.last ?? 0;
  }

  async currentRules(): Promise<StoredRule[]> {
    const rules = await this.manager
      .createQueryBuilder(RuleEntity, 'rule')
      .innerJoinAndMapOne(
        'rule.currentVersionRow',
        RuleVersionEntity,
        'version',
        'version.id = rule.current_version_id',
      )
      .where('rule.deleted_at IS NULL')
      .orderBy('rule.rule_id', 'ASC')
      .getMany();
    return rules.map((rule) => ({ rule, version: rule.currentVersionRow as RuleVersionEntity }));
  }

  async insertVersion(fields: NewRuleVersion): Promise<RuleVersionEntity> {
    const version = this.manager.create(RuleVersionEntity, fields);
    await this.manager.save(version);
    return version;
  }

  async insertRule(fields: NewRule): Promise<RuleEntity> {
    const rule = this.manager.create(RuleEntity, fields);
    await this.manager.save(rule);
    return rule;
  }

  async saveRule(rule: RuleEntity): Promise<void> {
    await this.manager.save(rule);
  }

  async packStates(ruleIds: readonly string[]): Promise<Map<string, PackRuleState>> {
    const states = new Map<string, PackRuleState>();
    for (const chunk of chunksFor(ruleIds, 1)) {
      const rules = await this.manager.find(RuleEntity, { where: { ruleId: In(chunk) } });
      if (rules.length === 0) continue;
      const current = await this.manager.find(RuleVersionEntity, {
        select: {
          id: true,
          ruleId: true,
          version: true,
          contentHash: true,
          metadata: true,
          testsPassed: true,
          testsFailed: true,
        },
        where: { id: In(rules.map((rule) => rule.currentVersionId)) },
      });
      const currentById = new Map(current.map((version) => [version.id, version]));
      const totals = await this.manager
        .createQueryBuilder(RuleVersionEntity, 'version')
        .select('version.rule_id', 'rule_id')
        .addSelect('MAX(version.version)', 'last')
        .addSelect(`SUM(CASE WHEN version.origin IN ('api', 'import') THEN 1 ELSE 0 END)`, 'user')
        .where('version.rule_id IN (:...ruleIds)', { ruleIds: rules.map((rule) => rule.ruleId) })
        .groupBy('version.rule_id')
        .getRawMany<{ rule_id: string; last: unknown; user: unknown }>();
      const totalsByRule = new Map(totals.map((row) => [row.rule_id, row]));
      for (const rule of rules) {
        const version = currentById.get(rule.currentVersionId);
        if (!version) throw new Error(`rule ${rule.ruleId} points at a missing version`);
        const total = totalsByRule.get(rule.ruleId);
        states.set(rule.ruleId, {
          rule,
          current: version,
          lastVersion: readCount(total?.last ?? 0),
          userVersions: readCount(total?.user ?? 0),
        });
      }
    }
    return states;
  }

  async insertVersions(versions: readonly NewRuleVersion[]): Promise<RuleVersionEntity[]> {
    const dialect = dialectOf(this.manager);
    const ids = new Map<string, number>();
    for (const chunk of chunksFor(versions, VERSION_COLUMNS.length)) {
      // RETURNING gives the ids on both databases, in no promised order: they are matched by version.
      const rows = await query<{ id: unknown; rule_id: string; version: unknown }[]>(
        this.manager,
        `INSERT INTO "rule_versions" (${VERSION_COLUMNS.join(', ')}) VALUES ${valuesList(chunk.length, VERSION_COLUMNS.length)} RETURNING "id", "rule_id", "version"`,
        chunk.flatMap((version) => [
          version.ruleId,
          version.version,
          version.sourceText,
          version.format,
          version.sourceFormat,
          version.contentHash,
          JSON.stringify(version.metadata),
          version.origin,
          version.createdByKey,
          version.testsPassed,
          version.testsFailed,
          version.libraryVersions === null ? null : JSON.stringify(version.libraryVersions),
          sqlTime(dialect, version.createdAt.getTime()),
        ]),
      );
      for (const row of rows) ids.set(`${row.rule_id}\u0000${readCount(row.version)}`, readCount(row.id));
    }
    return versions.map((version) => {
      const id = ids.get(`${version.ruleId}\u0000${version.version}`);
      if (id === undefined) throw new Error(`version ${version.ruleId}@${version.version} was not stored`);
      return this.manager.create(RuleVersionEntity, { ...version, id });
    });
  }

  async insertRules(rules: readonly NewRule[]): Promise<void> {
    const dialect = dialectOf(this.manager);
    const time = (date: Date | null) => (date === null ? null : sqlTime(dialect, date.getTime()));
    for (const chunk of chunksFor(rules, RULE_COLUMNS.length))
      await query(
        this.manager,
        `INSERT INTO "rules" (${RULE_COLUMNS.join(', ')}) VALUES ${valuesList(chunk.length, RULE_COLUMNS.length)}`,
        chunk.flatMap((rule) => [
          rule.ruleId,
          rule.currentVersion,
          rule.currentVersionId,
          sqlBoolean(dialect, rule.enabled),
          time(rule.createdAt),
          time(rule.updatedAt),
          time(rule.deletedAt),
        ]),
      );
  }

  async setCurrentVersions(changes: readonly CurrentVersionChange[]): Promise<void> {
    const dialect = dialectOf(this.manager);
    for (const change of changes)
      await query(
        this.manager,
        'UPDATE "rules" SET "current_version" = ?, "current_version_id" = ?, "enabled" = ?, "updated_at" = ? WHERE "rule_id" = ?',
        [
          change.currentVersion,
          change.currentVersionId,
          sqlBoolean(dialect, change.enabled),
          sqlTime(dialect, change.updatedAt.getTime()),
          change.ruleId,
        ],
      );
  }

  async enabledCurrentSources(): Promise<ActiveRuleSource[]> {
    const rows = await this.manager
      .createQueryBuilder(RuleEntity, 'rule')
      .innerJoin(RuleVersionEntity, 'version', 'version.id = rule.current_version_id')
      .select([
        'version.id AS id',
        'version.rule_id AS rule_id',
        'version.version AS version',
        'version.source_text AS source',
        'version.format AS format',
      ])
      .where('rule.enabled = :enabled AND rule.deleted_at IS NULL', { enabled: true })
      .orderBy('rule.rule_id')
      .getRawMany<{ id: number; rule_id: string; version: number; source: string; format: string }>();
    return rows.map((row) => ({
      versionId: row.id,
      ruleId: row.rule_id,
      version: row.version,
      source: row.source,
      format: row.format,
    }));
  }

  async rulesStamp(): Promise<string> {
    // One SQLite file has one writer, this process: it rebuilds on its own changes and needs no stamp.
    if (dialectOf(this.manager) !== 'postgres') return '';
    const [row] = await this.manager.query<{ stamp: string }[]>(
      `SELECT md5(COALESCE((SELECT string_agg("rule_id" || ':' || "current_version_id" || ':' || "enabled" || ':' || ("deleted_at" IS NULL), ',' ORDER BY "rule_id") FROM "rules"), '') || '|' || COALESCE((SELECT string_agg("kind" || ':' || "item_id" || ':' || "current_version_id" || ':' || ("deleted_at" IS NULL), ',' ORDER BY "kind", "item_id") FROM "library_items"), '')) AS stamp`,
    );
    return row?.stamp ?? '';
  }

  findLibraryItem(kind: LibraryKind, itemId: string): Promise<LibraryItemEntity | null> {
    return this.manager.findOne(LibraryItemEntity, { where: { kind, itemId } });
  }

  currentLibraryVersionOf(item: LibraryItemEntity): Promise<LibraryVersionEntity> {
    return this.manager.findOneOrFail(LibraryVersionEntity, { where: { id: item.currentVersionId } });
  }

  libraryVersions(kind: LibraryKind, itemId: string): Promise<LibraryVersionEntity[]> {
    return this.manager.find(LibraryVersionEntity, { where: { kind, itemId }, order: { version: 'ASC' } });
  }

  async currentLibrary(): Promise<StoredLibraryItem[]> {
    const items = await this.manager.find(LibraryItemEntity, {
      where: { deletedAt: IsNull() },
      order: { kind: 'ASC', itemId: 'ASC' },
    });
    const versions = new Map<number, LibraryVersionEntity>();
    for (const chunk of chunksFor(items, 1)) {
      const found = await this.manager.find(LibraryVersionEntity, {
        where: { id: In(chunk.map((item) => item.currentVersionId)) },
      });
      for (const version of found) versions.set(version.id, version);
    }
    return items.map((item) => {
      const version = versions.get(item.currentVersionId);
      if (!version) throw new Error(`${item.kind} ${item.itemId} points at a missing version`);
      return { item, version };
    });
  }

  async storeLibraryVersion(fields: NewLibraryVersion): Promise<StoredLibraryItem> {
    const { kind, itemId } = fields;
    await lockNames(this.manager, LIBRARY_LOCKS, [`${kind}:${itemId}`]);
    const last = await this.manager
      .createQueryBuilder(LibraryVersionEntity, 'version')
      .select('MAX(version.version)', 'last')
      .where('version.kind = :kind AND version.item_id = :itemId', { kind, itemId })
      .getRawOne<{ last: unknown }>();
    const version = this.manager.create(LibraryVersionEntity, {
      ...fields,
      version: readCount(last?.last ?? 0) + 1,
    });
    await this.manager.save(version);
    let item = await this.findLibraryItem(kind, itemId);
    if (item) {
      item.currentVersion = version.version;
      item.currentVersionId = version.id;
      item.updatedAt = fields.createdAt;
      if (item.deletedAt) {
        item.deletedAt = null;
        item.createdAt = fields.createdAt;
      }
    } else {
      item = this.manager.create(LibraryItemEntity, {
        kind,
        itemId,
        currentVersion: version.version,
        currentVersionId: version.id,
        createdAt: fields.createdAt,
        updatedAt: fields.createdAt,
        deletedAt: null,
      });
    }
    await this.manager.save(item);
    return { item, version };
  }

  async deleteLibraryItem(kind: LibraryKind, itemId: string, at: Date): Promise<void> {
    await lockNames(this.manager, LIBRARY_LOCKS, [`${kind}:${itemId}`]);
    await this.manager.update(
      LibraryItemEntity,
      { kind, itemId, deletedAt: IsNull() },
      { deletedAt: at, updatedAt: at },
    );
  }

  recordAudit(actor: Actor, entry: AuditEntry): Promise<void> {
    return insertAuditEvent(this.manager, actor, entry);
  }

  recordAudits(actor: Actor, entries: readonly AuditEntry[]): Promise<void> {
    return insertAuditEvents(this.manager, actor, entries);
  }
}
