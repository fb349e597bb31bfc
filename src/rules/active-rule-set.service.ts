// The compiled set of enabled rules that ingest evaluates. A change to the rules builds a new RuleSet and
// swaps the reference in one step: a batch in flight keeps the set it started with. Instances sharing a
// PostgreSQL database also look for each other's changes every RULES_REFRESH_MS.
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { CompiledRule } from '../engine/compile.js';
import type { RuleSet } from '../engine/rule-set.js';
import { PythonRuntime, sharedPythonRuntime } from '../engine/python/python-runtime.js';
import { pythonLibraryOf } from '../library/library-source.js';
import { PYTHON_RUNTIME } from './python-options.js';
import { RULE_STORE, type ActiveRuleSource, type RuleStore, type StoredLibraryItem } from './rule-store.js';
import {
  buildSnapshot,
  EMPTY_SNAPSHOT,
  type ActiveLibrary,
  type ActiveRule,
  type RuleSetSnapshot,
} from './rule-set-snapshot.js';

export type { ActiveLibrary, ActiveRule, RuleSetSnapshot } from './rule-set-snapshot.js';

/** Told of every new active set, with the sources it was built from (an evaluation thread builds its own). */
export type RuleSetListener = (snapshot: RuleSetSnapshot, sources: readonly ActiveRuleSource[]) => void;

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
  private readonly listeners: RuleSetListener[] = [];
  /** The sources of the current set, for a listener that subscribes after it was built. */
  private activeSources: readonly ActiveRuleSource[] = [];

  constructor(
    @Inject(RULE_STORE) private readonly ruleStore: RuleStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** Where this service's Python rules run (unit specs without one use the process's shared runtime). */
    @Optional() @Inject(PYTHON_RUNTIME) private readonly python: PythonRuntime = sharedPythonRuntime(),
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

  /** Calls `listener` with the current set's sources now, and again after every rebuild. */
  subscribe(listener: RuleSetListener): void {
    this.listeners.push(listener);
    listener(this.active, this.activeSources);
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

  /** The stored versions the active library was read from: a rule change reads none of them again. */
  private libraryBuiltFrom = '';

  /** The helpers and data models of these stored versions, read from their sources only when they changed. */
  private libraryOf(stored: readonly StoredLibraryItem[]): ActiveLibrary {
    const versionIds = stored.map(({ version }) => version.id).join(',');
    if (versionIds === this.libraryBuiltFrom) return this.active.library;
    const library = pythonLibraryOf(stored);
    for (const item of library.unreadable)
      this.logger.error(`stored ${item} no longer loads; Python rules run without it`);
    this.libraryBuiltFrom = versionIds;
    return { python: library.library, versions: library.versions };
  }

  private async rebuild(known: ReadonlyMap<number, CompiledRule> | undefined): Promise<void> {
    // The stamp is read first: a change made between the two reads is seen again at the next look.
    const { stamp, sources, stored } = await this.ruleStore.read(async (rules) => ({
      stamp: await rules.rulesStamp(),
      sources: await rules.enabledCurrentSources(),
      stored: await rules.currentLibrary(),
    }));
    const started = performance.now();
    const built = buildSnapshot(
      sources,
      this.active.generation + 1,
      this.libraryOf(stored),
      { backends: new Map([['python', this.python]]) },
      this.compiledByVersionId,
      known,
    );
    for (const { ruleId, format } of built.unreadable) {
      // Stored versions were checked on upload: the engine became stricter, or the format is gone.
      this.logger.error(
        `stored rule ${ruleId} no longer loads as a ${format} rule; it is left out of the active set`,
      );
    }
    const { snapshot, compiledNow } = built;
    const ruleSet = snapshot.ruleSet;
    this.compiledByVersionId = built.compiledByVersionId;
    this.active = snapshot;
    this.activeSources = sources;
    this.builtFrom = stamp;
    for (const listener of this.listeners) listener(snapshot, sources);
    // What a rule change costs the active set: rules read from their source again, and the whole index.
    this.logger.log(
      `${ruleSet.size} enabled rules active for ${ruleSet.logTypes.length} log types ` +
        `(${compiledNow} compiled from source; built in ${Math.round(performance.now() - started)} ms)`,
    );
  }
}
