// Loads the built-in rule pack (rules/ at the repository root) once at start. It adds rules that are
// missing and updates its own versions, but never replaces a version a user made or revives a rule a
// user deleted. The whole pack is checked first, then stored in one transaction, then the active set is
// built once from the rules just compiled: start-up stays linear in the pack's size. A rule's own tests
// run only when it is stored as a new version: on a restart, an unchanged file is read and compiled only.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { formatDiagnostic } from '../engine/diagnostics.js';
import { collectRuleFiles, rejectDuplicateRuleIds } from '../engine/pack.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { readRuleSources, type ReadRule } from './rule-source.js';
import { RulesService } from './rules.service.js';

/** Files read at a time: enough to keep the disk busy, few enough to stay far from the open-file limit. */
const FILES_READ_TOGETHER = 64;

@Injectable()
export class BuiltinPackLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('BuiltinPack');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rules: RulesService,
    private readonly activeRules: ActiveRuleSet,
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
    const files = await collectRuleFiles([directory]);
    const loaded: ReadRule[] = [];
    for (let start = 0; start < files.length; start += FILES_READ_TOGETHER) {
      const batch = files.slice(start, start + FILES_READ_TOGETHER);
      const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')));
      for (const [index, file] of batch.entries()) {
        const { rules, problems } = readRuleSources(texts[index] as string, {
          ignoreExtraKeys: false,
          file,
        });
        for (const problem of problems.errors) this.logger.error(`skipped: ${formatDiagnostic(problem)}`);
        loaded.push(...rules);
      }
    }
    // A RuleID defined twice would get a new version at every start, from each file in turn.
    const unique = rejectDuplicateRuleIds(loaded.map((rule) => rule.definition));
    for (const problem of unique.diagnostics) this.logger.error(`skipped: ${formatDiagnostic(problem)}`);
    const kept = new Set(unique.rules);
    return loaded.filter((rule) => kept.has(rule.definition));
  }
}
