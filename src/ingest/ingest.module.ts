import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RulesModule } from '../rules/rules.module.js';
import { storeProvider } from '../storage/database-store.js';
import { openIngestStore } from '../storage/ingest.repository.js';
import { IngestController } from './ingest.controller.js';
import { INGEST_STORE } from './ingest-store.js';
import { EvaluationPool } from './evaluation-pool.js';
import { IngestService } from './ingest.service.js';

@Module({
  imports: [RulesModule, MetricsModule],
  controllers: [IngestController],
  providers: [IngestService, EvaluationPool, storeProvider(INGEST_STORE, openIngestStore)],
  exports: [IngestService],
})
export class IngestModule {}
