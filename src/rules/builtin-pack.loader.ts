// Loads the built-in rule pack (rules/ at the repository root) once at start. It adds rules that are
// missing and updates its own versions, but never replaces a version a user made or revives a rule a
// user deleted. The whole pack is checked first, then stored in one transaction, then the active set is
// built once from the rules just compiled: start-up stays linear in the pack's size. A rule's own tests
// run only when it is stored as a new version: on a restart, an unchanged file is read and compiled only.
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { formatDiagnostic } from '../engine/diagnostics.js';
import { rejectDuplicateRuleIds } from '../engine/pack.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { parsePackFiles } from './builtin-pack.files.js';
import { BUILTIN_PACK_READING, type BuiltinPackReading } from './builtin-pack.reading.js';
import { compileParsedRule, type ReadRule } from './rule-source.js';
import { RulesService } from './rules.service.js';

@Injectable()
export class BuiltinPackLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('BuiltinPack');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rules: RulesService,
    private readonly activeRules: ActiveRuleSet,
    /** The pack's files, parsed in a worker thread since before the application was built (main.ts). */
    @Optional() @Inject(BUILTIN_PACK_READING) private readonly reading?: BuiltinPackReading,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const directory = this.config.builtinRulesDir;
    if (directory === undefined) {
      this.logger.log('no built-in pack configured');
      await this.activeRules.refresh();
      return;
    }
    const pack = await this.checkPack(directory);
    const installed = await this.rules.installBuiltinPack(pack);
    for (const [ruleId, tests] of installed.tests) {
      const failed = tests.filter((test) => !test.passed).length;
      if (failed > 0) this.logger.warn(`${ruleId}: ${failed} tests fail; stored disabled`);
    }
    await this.activeRules.refresh(installed.compiled);
    const outcomes: Record<string, number> = {};
    for (const outcome of installed.outcomes.values()) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const summary = Object.entries(outcomes).map(([outcome, count]) => `${count} ${outcome}`);
    this.logger.log(`${directory}: ${summary.length > 0 ? summary.join(', ') : 'no rules'}`);
  }

  /** Every rule of the pack's files, parsed and compiled once; what does not load is logged and skipped. */
  private async checkPack(directory: string): Promise<ReadRule[]> {
    const files =
      this.reading?.directory === directory ? await this.reading.files : await parsePackFiles(directory);
    const loaded: ReadRule[] = [];
    for (const { rules, problems } of files) {
      for (const problem of problems.errors) this.logger.error(`skipped: ${formatDiagnostic(problem)}`);
      loaded.push(...rules.map((rule) => compileParsedRule(rule)));
    }
    // A RuleID defined twice would get a new version at every start, from each file in turn.
    const unique = rejectDuplicateRuleIds(loaded.map((rule) => rule.definition));
    for (const problem of unique.diagnostics) this.logger.error(`skipped: ${formatDiagnostic(problem)}`);
    const kept = new Set(unique.rules);
    return loaded.filter((rule) => kept.has(rule.definition));
  }
}
