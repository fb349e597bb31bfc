import { Module } from '@nestjs/common';
import { storeProvider } from '../storage/database-store.js';
import { openRuleStore } from '../storage/rules.repository.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { BuiltinPackLoader } from './builtin-pack.loader.js';
import { PythonChecks } from './python-checks.js';
import { pythonRuntimeProvider } from './python-options.js';
import { PythonWorkers } from './python-workers.js';
import { RULE_STORE } from './rule-store.js';
import { RulesController } from './rules.controller.js';
import { RulesService } from './rules.service.js';

@Module({
  controllers: [RulesController],
  providers: [
    RulesService,
    ActiveRuleSet,
    BuiltinPackLoader,
    PythonWorkers,
    PythonChecks,
    pythonRuntimeProvider,
    storeProvider(RULE_STORE, openRuleStore),
  ],
  exports: [RulesService, ActiveRuleSet, PythonChecks, RULE_STORE],
})
export class RulesModule {}
