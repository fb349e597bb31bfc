import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { BulkController } from './bulk.controller.js';
import { ForwardersService } from './forwarders.service.js';
import { HecController } from './hec.controller.js';

/** Routes that forwarders speaking Splunk HEC or Elasticsearch _bulk can send to unchanged. */
export const FORWARDER_STREAMED_ROUTES: ReadonlySet<string> = new Set([
  '/services/collector',
  '/services/collector/event',
  '/services/collector/event/1.0',
  '/services/collector/raw',
  '/services/collector/raw/1.0',
  '/_bulk',
  '/:index/_bulk',
]);

@Module({
  imports: [IngestModule],
  controllers: [HecController, BulkController],
  providers: [ForwardersService],
})
export class ForwardersModule {}
