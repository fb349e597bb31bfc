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
import { BUILTIN_PACK_READING, type BuiltinPackReading } from './rules/builtin-pack.reading.js';
import { LibraryModule } from './library/library.module.js';
import { RulesModule } from './rules/rules.module.js';
import { StorageModule } from './storage/storage.module.js';

/** What the process began before building the application. */
export interface AppStart {
  /** The built-in pack's files, already being parsed (main.ts): BuiltinPackLoader takes them. */
  builtinPackReading?: BuiltinPackReading;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, start: AppStart = {}): DynamicModule {
    return {
      module: AppModule,
      // Global for its one export, which the rules module's loader takes when it is there.
      global: true,
      providers: [{ provide: BUILTIN_PACK_READING, useValue: start.builtinPackReading }],
      exports: [BUILTIN_PACK_READING],
      imports: [
        ConfigModule.forRoot(config),
        StorageModule,
        AuditModule,
        AuthModule,
        RulesModule,
        LibraryModule,
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
