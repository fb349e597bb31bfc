// The service's side of the Python runtime (engine/python): says at start-up whether Python rules can run
// here and what to install when they cannot, gives the workers the stored helpers and data models with
// every new active set and the rules' cache in the database, and ends the workers when the service stops.
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { backendRuleIdOf, runsInProcess } from '../engine/formats/rule-format.js';
import type { PythonRuntime } from '../engine/python/python-runtime.js';
import { ActiveRuleSet, type RuleSetSnapshot } from './active-rule-set.service.js';
import { Database } from '../storage/database.service.js';
import { DatabaseRuleCache } from '../storage/rule-cache.repository.js';
import { PYTHON_RUNTIME } from './python-options.js';

@Injectable()
export class PythonWorkers implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PythonWorkers.name);
  /** The stored versions of the library the workers were last given. */
  private libraryGiven = '';

  constructor(
    private readonly activeRules: ActiveRuleSet,
    @Inject(PYTHON_RUNTIME) private readonly runtime: PythonRuntime,
    private readonly database: Database,
  ) {}

  onModuleInit(): void {
    // panther_detection_helpers.caching: one cache in the database, shared by every worker and instance.
    this.runtime.useCache(new DatabaseRuleCache(this.database).handle);
    const problem = this.runtime.problem();
    if (problem !== undefined)
      this.logger.warn(`${problem}; YAML rules are not affected (see docs/python-rules.md)`);
    else
      this.logger.log(
        'Python rules run in sandboxed workers (bubblewrap and seccomp), started when first needed',
      );
    this.activeRules.subscribe((snapshot) => this.follow(snapshot));
  }

  onApplicationShutdown(): void {
    this.runtime.close();
  }

  /** The active set's helpers and data models, and only its rule versions (plus a few being tested). */
  private follow(snapshot: RuleSetSnapshot): void {
    const runtime = this.runtime;
    const given = JSON.stringify(snapshot.library.versions);
    if (given !== this.libraryGiven) {
      runtime.setLibrary(snapshot.library.python);
      this.libraryGiven = given;
    }
    const keys = new Set<string>();
    for (const { compiled } of snapshot.versions.values()) {
      const detection = compiled.detection;
      if (!runsInProcess(detection) && detection.backend === runtime)
        keys.add(backendRuleIdOf(compiled.ruleId, detection));
    }
    runtime.retain(keys);
  }
}
