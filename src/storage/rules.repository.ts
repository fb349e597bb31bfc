// Rules and their versions in the database: the RuleStore the rules service and the active rule set ask
// for (rules/rule-store.ts). Each unit of work gets a RulesRepository on its transaction's EntityManager.
import { Database } from './database.service.js';
import { DatabaseStore } from './database-store.js';
import type { EntityManager } from 'typeorm';
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import type {
  ActiveRuleSource,
  NewRule,
  NewRuleVersion,
  RuleStore,
  RuleTransaction,
  StoredRule,
} from '../rules/rule-store.js';
import { insertAuditEvent } from './audit.repository.js';
import { RuleEntity, RuleVersionEntity, type RuleOrigin } from './entities.js';
import { dialectOf, lockNames } from './sql.js';

/** Changes to one rule (a version, its state) are made one at a time, also across instances. */
const RULE_LOCKS = 'rule';

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

  countVersions(ruleId: string, origin: RuleOrigin): Promise<number> {
    return this.manager.count(RuleVersionEntity, { where: { ruleId, origin } });
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
      `SELECT md5(COALESCE(string_agg("rule_id" || ':' || "current_version_id" || ':' || "enabled" || ':' || ("deleted_at" IS NULL), ',' ORDER BY "rule_id"), '')) AS stamp FROM "rules"`,
    );
    return row?.stamp ?? '';
  }

  recordAudit(actor: Actor, entry: AuditEntry): Promise<void> {
    return insertAuditEvent(this.manager, actor, entry);
  }
}
