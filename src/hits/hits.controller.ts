import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import {
  ApiQueries,
  page,
  positiveInteger,
  ruleIdParameter,
  severityParameter,
  text,
  timeRange,
} from '../common/openapi-queries.js';
import { MAX_ID, positiveId, type RawQuery } from '../common/query-params.js';
import { DEFAULT_HIT_PAGE, MAX_HIT_PAGE, parseHitFilters } from './hit-filters.js';
import type { HitView } from './hit-views.js';
import { HitsService } from './hits.service.js';

export class HitDto {
  @ApiProperty({ example: 42 }) id: number;
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) ruleId: string;
  @ApiProperty({ description: 'The rule version that made the hit', example: 1 }) ruleVersion: number;
  @ApiProperty({ example: 'Medium' }) severity: string;
  @ApiProperty({ example: 'Root login from 198.51.100.7' }) title: string;
  @ApiProperty({ example: '198.51.100.7' }) dedupKey: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'null until its alert group exists, and for CreateAlert: false',
    example: 12,
  })
  alertId: number | null;
  @ApiProperty({ example: 'AWS.CloudTrail' }) logType: string;
  @ApiProperty({ description: 'p_event_time', example: '2026-01-05T09:00:00.000Z' }) eventTime: string;
  @ApiProperty({ example: '2026-01-05T09:00:02.113Z' }) receivedAt: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "The rule's output fields (AlertContext)",
    example: { eventName: 'ConsoleLogin', sourceIPAddress: '198.51.100.7', accountId: '111111111111' },
  })
  outputFields: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The normalised event',
    example: {
      eventTime: '2026-01-05T09:00:00Z',
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      sourceIPAddress: '198.51.100.7',
      userIdentity: { type: 'Root', accountId: '111111111111' },
      recipientAccountId: '111111111111',
      p_log_type: 'AWS.CloudTrail',
      p_event_time: '2026-01-05T09:00:00.000Z',
      p_parse_time: '2026-01-05T09:00:02.113Z',
      p_any_ip_addresses: ['198.51.100.7'],
      p_any_aws_account_ids: ['111111111111'],
    },
  })
  event: Record<string, unknown>;
}

export class HitPageDto {
  @ApiProperty({ type: [HitDto] }) items: HitDto[];
  @ApiProperty({ nullable: true, type: String, example: 'MTc2NzYwMzYwMDAwMC40Mg' }) nextCursor: string | null;
}

@ApiTags('hits')
@ApiExtraModels(HitDto)
@Controller({ path: 'hits', version: '1' })
export class HitsController {
  constructor(private readonly hits: HitsService) {}

  @Get()
  @Access('read')
  @ApiOperation({
    summary: 'Find hits',
    description:
      'Newest event first, in keyset pages that stay exact while new hits arrive. `field.<name>=<value>` matches an output field or a `p_any_*` indicator (e.g. `field.p_any_ip_addresses=198.51.100.7`); several field filters must all match (at most 20).',
  })
  @ApiQueries(
    ruleIdParameter('hits'),
    severityParameter('hits'),
    text('logType', 'Only hits on events of this log type, e.g. AWS.CloudTrail'),
    positiveInteger('alertId', 'Only the hits of this alert', MAX_ID),
    text(
      'field.p_any_ip_addresses',
      'An example of `field.<name>=<value>`: every hit whose output field or `p_any_*` indicator `<name>` holds `<value>`, here an IP address',
    ),
    ...timeRange('Event time'),
    ...page(MAX_HIT_PAGE, DEFAULT_HIT_PAGE),
  )
  @ApiOkResponse({ type: HitPageDto })
  @ApiProblems(400)
  // A HitPage already written as JSON (HitsService.listJson): Fastify sends JSON text as it is.
  @Header('content-type', 'application/json; charset=utf-8')
  list(@Query() query: RawQuery): Promise<string> {
    return this.hits.listJson(parseHitFilters(query));
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({
    summary: 'Get a hit',
    description: 'With its normalised event and the exact rule version (and its source) that made it.',
  })
  @ApiParam({ name: 'id', description: 'The hit’s id', example: 42 })
  @ApiOkResponse({ type: HitDto })
  @ApiProblems(400, 404)
  get(@Param('id') id: string): Promise<HitView> {
    return this.hits.get(positiveId(id, 'id'));
  }
}
