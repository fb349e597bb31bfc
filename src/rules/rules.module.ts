import { Module } from '@nestjs/common';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { BuiltinPackLoader } from './builtin-pack.loader.js';
import { RulesController } from './rules.controller.js';
import { RulesService } from './rules.service.js';

@Module({
  controllers: [RulesController],
  providers: [RulesService, ActiveRuleSet, BuiltinPackLoader],
  exports: [RulesService, ActiveRuleSet],
})
export class RulesModule {}
