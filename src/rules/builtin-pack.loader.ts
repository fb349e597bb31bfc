// Loads the built-in rule pack (rules/ at the repository root) once at start. It adds rules that are
// missing and updates its own versions, but never replaces a version a user made or revives a rule a
// user deleted.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { formatDiagnostic } from '../engine/diagnostics.js';
import { collectRuleFiles } from '../engine/pack.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { checkRuleSources } from './rule-source.js';
import { RulesService } from './rules.service.js';

@Injectable()
export class BuiltinPackLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('BuiltinPack');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rules: RulesService,
    private readonly activeRules: ActiveRuleSet,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.activeRules.refresh();
    const directory = this.config.builtinRulesDir;
    if (directory === undefined) {
      this.logger.log('no built-in pack configured');
      return;
    }
    const outcomes: Record<string, number> = {};
    for (const file of await collectRuleFiles([directory])) {
      const { rules, problems } = await checkRuleSources(await readFile(file, 'utf8'), {
        ignoreExtraKeys: false,
        file,
      });
      for (const problem of problems.errors) this.logger.error(`skipped: ${formatDiagnostic(problem)}`);
      for (const rule of rules) {
        const failed = rule.tests.filter((test) => !test.passed).length;
        if (failed > 0) this.logger.warn(`${rule.definition.ruleId}: ${failed} tests fail; stored disabled`);
        const outcome = await this.rules.installBuiltin(rule, { refresh: false });
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }
    // One rebuild for the whole pack.
    if ((outcomes.created ?? 0) + (outcomes.updated ?? 0) > 0) await this.activeRules.refresh();
    const summary = Object.entries(outcomes).map(([outcome, count]) => `${count} ${outcome}`);
    this.logger.log(`${directory}: ${summary.length > 0 ? summary.join(', ') : 'no rules'}`);
  }
}
