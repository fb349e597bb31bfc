import { Module } from '@nestjs/common';
import { storeProvider } from '../storage/database-store.js';
import { openStatsStore } from '../storage/stats.repository.js';
import { STATS_STORE } from './stats-store.js';
import { StatsController } from './stats.controller.js';
import { StatsService } from './stats.service.js';

@Module({
  controllers: [StatsController],
  providers: [StatsService, storeProvider(STATS_STORE, openStatsStore)],
})
export class StatsModule {}
