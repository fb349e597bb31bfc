import { Module } from '@nestjs/common';
import { dataSourcePoolStatsProvider } from '../storage/pool-stats.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Module({
  controllers: [MetricsController],
  providers: [MetricsService, dataSourcePoolStatsProvider],
  exports: [MetricsService],
})
export class MetricsModule {}
