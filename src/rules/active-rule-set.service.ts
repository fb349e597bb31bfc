// The compiled set of enabled rules that ingest evaluates. A change to the rules builds a new RuleSet and
// swaps the reference in one step: a batch in flight keeps the set it started with. Instances sharing a
// PostgreSQL database also look for each other's changes every RULES_REFRESH_MS.
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { compileRule, type CompiledRule } from '../engine/compile.js';
import { readStoredRule } from '../engine/formats/registry.js';
import { RuleSet } from '../engine/rule-set.js';
import { RULE_STORE, type RuleStore } from './rule-store.js';

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
    @Inject(RULE_STORE) private readonly ruleStore: RuleStore,
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

  /**
   * Rebuilds from the database; concurrent calls run one after another, the last one wins. `compiled`
   * holds versions the caller has just compiled, by rule_versions.id: they are not read from their source
   * again.
   */
  refresh(compiled?: ReadonlyMap<number, CompiledRule>): Promise<void> {
    const next = this.pending.then(() => this.rebuild(compiled));
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
      if ((await this.ruleStore.read((rules) => rules.rulesStamp())) !== this.builtFrom) await this.refresh();
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

  private async rebuild(known: ReadonlyMap<number, CompiledRule> | undefined): Promise<void> {
    // The stamp is read first: a change made between the two reads is seen again at the next look.
    const { stamp, sources } = await this.ruleStore.read(async (rules) => ({
      stamp: await rules.rulesStamp(),
      sources: await rules.enabledCurrentSources(),
    }));
    const started = performance.now();
    const versions = new Map<string, ActiveRule>();
    // Only the versions in use stay compiled.
    const compiledByVersionId = new Map<number, CompiledRule>();
    let compiledNow = 0;
    for (const source of sources) {
      let compiled = this.compiledByVersionId.get(source.versionId) ?? known?.get(source.versionId);
      if (!compiled) {
        compiled = this.compile(source.format, source.source, source.ruleId);
        compiledNow += 1;
      }
      if (!compiled) continue;
      compiledByVersionId.set(source.versionId, compiled);
      versions.set(source.ruleId, { compiled, versionId: source.versionId, version: source.version });
    }
    this.compiledByVersionId = compiledByVersionId;
    const ruleSet = RuleSet.fromCompiled([...versions.values()].map((rule) => rule.compiled));
    this.active = { ruleSet, versions };
    this.builtFrom = stamp;
    // What a rule change costs the active set: rules read from their source again, and the whole index.
    this.logger.log(
      `${ruleSet.size} enabled rules active for ${ruleSet.logTypes.length} log types ` +
        `(${compiledNow} compiled from source; built in ${Math.round(performance.now() - started)} ms)`,
    );
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
