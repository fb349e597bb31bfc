// The compiled set of enabled rules that ingest evaluates. A change to the rules builds a new RuleSet and
// swaps the reference in one step: a batch in flight keeps the set it started with. Instances sharing a
// PostgreSQL database also look for each other's changes every RULES_REFRESH_MS.
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { compileRule, type CompiledRule } from '../engine/compile.js';
import { readStoredRule } from '../engine/formats/registry.js';
import { RuleSet } from '../engine/rule-set.js';
import type { EntityManager } from 'typeorm';
import { Database } from '../storage/database.service.js';
import { RuleEntity, RuleVersionEntity } from '../storage/entities.js';

export interface ActiveRule {
  compiled: CompiledRule;
  versionId: number;
  version: number;
}

/** The rules and which stored version each one is, taken together so that they always agree. */
export interface RuleSetSnapshot {
  readonly ruleSet: RuleSet;
  readonly versions: ReadonlyMap<string, ActiveRule>;
}

const EMPTY_SNAPSHOT: RuleSetSnapshot = { ruleSet: RuleSet.empty, versions: new Map() };

@Injectable()
export class ActiveRuleSet implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ActiveRuleSet.name);
  private active: RuleSetSnapshot = EMPTY_SNAPSHOT;
  /** Compiled rules by rule_versions.id: versions never change, so a compiled one is reused. */
  private compiledByVersionId = new Map<number, CompiledRule>();
  private pending: Promise<void> = Promise.resolve();
  /** What the rules table looked like at the last rebuild: a change anywhere changes it. */
  private builtFrom = '';
  private watcher: NodeJS.Timeout | undefined;

  constructor(
    private readonly database: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const database = this.config.database;
    if (database.kind !== 'postgres') return; // one SQLite file has one writer: this process
    this.watcher = setInterval(() => void this.refreshIfChanged(), database.rulesRefreshMs);
    this.watcher.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.watcher);
  }

  /** The current rules and their versions; take it once per unit of work and keep using it. */
  snapshot(): RuleSetSnapshot {
    return this.active;
  }

  /** The current set; take it once per unit of work and keep using that reference. */
  get current(): RuleSet {
    return this.active.ruleSet;
  }

  /** Which stored version of a rule the current set runs. */
  activeVersion(ruleId: string): ActiveRule | undefined {
    return this.active.versions.get(ruleId);
  }

  /** Rebuilds from the database; concurrent calls run one after another, the last one wins. */
  refresh(): Promise<void> {
    const next = this.pending.then(() => this.rebuild());
    this.pending = next.catch((error: unknown) => {
      this.logger.error(
        `rebuilding the rule set failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    return next;
  }

  /** When looking for rule changes last failed and was logged: a database outage logs once a minute. */
  private failingSince: number | undefined;
  private lastFailureLogged = 0;

  /** Rebuilds when another instance changed a rule since the last rebuild. */
  private async refreshIfChanged(): Promise<void> {
    try {
      if ((await this.database.read((manager) => this.rulesStamp(manager))) !== this.builtFrom)
        await this.refresh();
      if (this.failingSince !== undefined) {
        this.logger.log('looking for rule changes works again');
        this.failingSince = undefined;
      }
    } catch (error) {
      const now = Date.now();
      this.failingSince ??= now;
      if (now - this.lastFailureLogged < 60_000) return;
      this.lastFailureLogged = now;
      this.logger.warn(
        `looking for rule changes fails (since ${new Date(this.failingSince).toISOString()}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /**
   * A digest of what the active set is built from: each rule's current version, whether it runs and
   * whether it is deleted. Any change on any instance changes it, whatever the clocks say.
   */
  private async rulesStamp(manager: EntityManager): Promise<string> {
    // One SQLite file has one writer, this process: it rebuilds on its own changes and needs no stamp.
    if (this.database.dialect !== 'postgres') return '';
    const [row] = await manager.query<{ stamp: string }[]>(
      `SELECT md5(COALESCE(string_agg("rule_id" || ':' || "current_version_id" || ':' || "enabled" || ':' || ("deleted_at" IS NULL), ',' ORDER BY "rule_id"), '')) AS stamp FROM "rules"`,
    );
    return row?.stamp ?? '';
  }

  private async rebuild(): Promise<void> {
    let stamp = '';
    const rows = await this.database.read(async (manager) => {
      stamp = await this.rulesStamp(manager);
      return manager
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
    });
    const versions = new Map<string, ActiveRule>();
    // Only the versions in use stay compiled.
    const compiledByVersionId = new Map<number, CompiledRule>();
    for (const row of rows) {
      const compiled =
        this.compiledByVersionId.get(row.id) ?? this.compile(row.format, row.source, row.rule_id);
      if (!compiled) continue;
      compiledByVersionId.set(row.id, compiled);
      versions.set(row.rule_id, { compiled, versionId: row.id, version: row.version });
    }
    this.compiledByVersionId = compiledByVersionId;
    const ruleSet = RuleSet.fromCompiled([...versions.values()].map((rule) => rule.compiled));
    this.active = { ruleSet, versions };
    this.builtFrom = stamp;
    this.logger.log(`${ruleSet.size} enabled rules active for ${ruleSet.logTypes.length} log types`);
  }

  private compile(format: string, source: string, ruleId: string): CompiledRule | undefined {
    const definition = readStoredRule(format, source);
    if (!definition) {
      // Stored versions were checked on upload: the engine became stricter, or the format is gone.
      this.logger.error(
        `stored rule ${ruleId} no longer loads as a ${format} rule; it is left out of the active set`,
      );
      return undefined;
    }
    return compileRule(definition);
  }
}
