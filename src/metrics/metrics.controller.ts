import { Controller, Get, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Controller({ version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Access('read')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Prometheus text format 0.0.4: events received, accepted and rejected per log type; hits stored, alerts opened and rule errors per rule; batch and evaluation time; the database pool; the process. Scrape it with a key of scope read.',
  })
  @ApiOkResponse({
    description: 'The metrics',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example:
          '# HELP tripline_hits_stored_total Hits stored, by rule\n# TYPE tripline_hits_stored_total counter\ntripline_hits_stored_total{rule_id="AWS.CloudTrail.VPCE.ExternalPrincipal"} 1\n',
      },
    },
  })
  async metricsText(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('content-type', this.metrics.contentType);
    return this.metrics.render();
  }
}
