import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../audit/audit.service.js';
import { Access, RequestActor } from '../auth/access.js';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiProblems } from '../common/openapi.js';
import {
  ApiQueries,
  oneOrSeveral,
  page,
  ruleIdParameter,
  severityParameter,
  timeRange,
} from '../common/openapi-queries.js';
import { cursor, pageSize, positiveId, rejectUnknown, type RawQuery } from '../common/query-params.js';
import { DEFAULT_HIT_PAGE, MAX_HIT_PAGE } from '../hits/hit-filters.js';
import { HitPageDto } from '../hits/hits.controller.js';
import type { AlertStatus } from '../storage/entities.js';
import {
  AlertsService,
  DEFAULT_ALERT_PAGE,
  MAX_ALERT_PAGE,
  parseAlertFilters,
  TRIAGE_STATUSES,
  type AlertView,
} from './alerts.service.js';

export class PatchAlertBody {
  @ApiProperty({ enum: TRIAGE_STATUSES, example: 'acknowledged' })
  @IsIn(TRIAGE_STATUSES)
  status: AlertStatus;

  @ApiPropertyOptional({ example: 'Partner account; expected access, see TICKET-123', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

class AlertDto {
  @ApiProperty({ example: 12 }) id: number;
  @ApiProperty({ example: 'Tour.RootLogin' }) ruleId: string;
  @ApiProperty({ example: '198.51.100.7' }) dedupKey: string;
  @ApiProperty({ example: 'Root login from 198.51.100.7' }) title: string;
  @ApiProperty({ description: 'The highest severity of its hits', example: 'High' }) severity: string;
  @ApiProperty({ enum: ['pending', 'open', 'acknowledged', 'closed'], example: 'open' }) status: string;
  @ApiProperty({ example: '2026-01-05T09:00:00.000Z' }) firstEventTime: string;
  @ApiProperty({ example: '2026-01-05T09:42:10.000Z' }) lastEventTime: string;
  @ApiProperty({ example: 3 }) hitCount: number;
  @ApiProperty({ description: 'It opened (or opens) at this many hits', example: 1 }) threshold: number;
  @ApiProperty({ nullable: true, type: String, example: '2026-01-05T09:00:02.113Z' }) openedAt: string | null;
  @ApiProperty({ example: '2026-01-05T10:15:00.000Z' }) updatedAt: string;
}

class AlertPageDto {
  @ApiProperty({ type: [AlertDto] }) items: AlertDto[];
  @ApiProperty({ nullable: true, type: String, example: 'MTc2NzYwMzYwMDAwMC4xMg' }) nextCursor: string | null;
}

class StatusChangeDto {
  @ApiProperty({ example: 'open' }) from: string;
  @ApiProperty({ example: 'acknowledged' }) to: string;
  @ApiProperty({ nullable: true, type: String, example: 'Partner account; expected access, see TICKET-123' })
  comment: string | null;
  @ApiProperty({ nullable: true, type: String, example: '3f9a0c1e2b4d' }) changedBy: string | null;
  @ApiProperty({ example: '2026-01-05T10:15:00.000Z' }) changedAt: string;
}

class AlertDetailDto extends AlertDto {
  @ApiProperty({ type: [StatusChangeDto] }) history: StatusChangeDto[];
  @ApiProperty({ type: HitPageDto }) hits: HitPageDto;
}

@ApiTags('alerts')
@Controller({ path: 'alerts', version: '1' })
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @Access('read')
  @ApiOperation({
    summary: 'Find alerts',
    description:
      'Newest first. By default open, acknowledged and closed alerts; status=pending shows those still below their threshold.',
  })
  @ApiQueries(
    oneOrSeveral(
      'status',
      ['pending', 'open', 'acknowledged', 'closed'],
      'Only alerts in these states (default: all but pending, which are still below their threshold).',
    ),
    ruleIdParameter('alerts'),
    severityParameter('alerts'),
    ...timeRange('Alerts whose events overlap a time'),
    ...page(MAX_ALERT_PAGE, DEFAULT_ALERT_PAGE),
  )
  @ApiOkResponse({ type: AlertPageDto })
  @ApiProblems(400)
  list(@Query() query: RawQuery): Promise<{ items: AlertView[]; nextCursor: string | null }> {
    return this.alerts.list(parseAlertFilters(query));
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({
    summary: 'Get an alert',
    description: 'With its status history and a page of its hits (hitsLimit, hitsCursor).',
  })
  @ApiParam({ name: 'id', description: 'The alert’s id', example: 12 })
  @ApiQueries(...page(MAX_HIT_PAGE, DEFAULT_HIT_PAGE, 'hits'))
  @ApiOkResponse({ type: AlertDetailDto })
  @ApiProblems(400, 404)
  get(@Param('id') id: string, @Query() query: RawQuery): ReturnType<AlertsService['get']> {
    rejectUnknown(query, ['hitsLimit', 'hitsCursor']);
    return this.alerts.get(positiveId(id, 'id'), {
      limit: pageSize(query, 'hitsLimit', DEFAULT_HIT_PAGE, MAX_HIT_PAGE),
      after: cursor(query, 'hitsCursor'),
    });
  }

  @Patch(':id')
  @Access('admin')
  @ApiOperation({
    summary: 'Triage an alert',
    description:
      'Move it between open, acknowledged and closed, with an optional comment; every change is kept.',
  })
  @ApiParam({ name: 'id', description: 'The alert’s id', example: 12 })
  @ApiBody({ type: PatchAlertBody })
  @ApiOkResponse({ type: AlertDto })
  @ApiProblems(400, 404, 409)
  patch(
    @Param('id') id: string,
    @Body() body: PatchAlertBody,
    @RequestActor() actor: Actor,
  ): Promise<AlertView> {
    return this.alerts.setStatus(positiveId(id, 'id'), body.status, body.comment, actor);
  }
}
