import { Module } from '@nestjs/common';
import { DatabaseStatsStore } from '../storage/stats.repository.js';
import { STATS_STORE } from './stats-store.js';
import { StatsController } from './stats.controller.js';
import { StatsService } from './stats.service.js';

@Module({
  controllers: [StatsController],
  providers: [StatsService, { provide: STATS_STORE, useClass: DatabaseStatsStore }],
})
export class StatsModule {}
