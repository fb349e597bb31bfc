import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { CoverageModule } from './coverage/coverage.module.js';
import { HealthModule } from './health/health.module.js';
import { HitsModule } from './hits/hits.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { StatsModule } from './stats/stats.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { ForwardersModule } from './forwarders/forwarders.module.js';
import { RulesModule } from './rules/rules.module.js';
import { StorageModule } from './storage/storage.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        StorageModule,
        AuditModule,
        AuthModule,
        RulesModule,
        IngestModule,
        ForwardersModule,
        HitsModule,
        AlertsModule,
        StatsModule,
        CoverageModule,
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
