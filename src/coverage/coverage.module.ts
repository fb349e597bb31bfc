import { Module } from '@nestjs/common';
import { RulesModule } from '../rules/rules.module.js';
import { STATS_STORE } from '../stats/stats-store.js';
import { storeProvider } from '../storage/database-store.js';
import { openStatsStore } from '../storage/stats.repository.js';
import { CoverageController } from './coverage.controller.js';
import { CoverageService } from './coverage.service.js';

@Module({
  imports: [RulesModule],
  controllers: [CoverageController],
  providers: [CoverageService, storeProvider(STATS_STORE, openStatsStore)],
})
export class CoverageModule {}
