import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { dataSourcePoolStats, POOL_STATS, type PoolStatsReader } from './pool-stats.js';

@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    {
      provide: POOL_STATS,
      inject: [DataSource],
      useFactory:
        (dataSource: DataSource): PoolStatsReader =>
        () =>
          dataSourcePoolStats(dataSource),
    },
  ],
  exports: [MetricsService],
})
export class MetricsModule {}
