import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RulesModule } from '../rules/rules.module.js';
import { DatabaseIngestStore } from '../storage/ingest.repository.js';
import { IngestController } from './ingest.controller.js';
import { INGEST_STORE } from './ingest-store.js';
import { IngestService } from './ingest.service.js';

@Module({
  imports: [RulesModule, MetricsModule],
  controllers: [IngestController],
  providers: [IngestService, { provide: INGEST_STORE, useClass: DatabaseIngestStore }],
  exports: [IngestService],
})
export class IngestModule {}
