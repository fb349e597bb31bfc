import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import { ApiQueries, oneOf, page, text, timeRange } from '../common/openapi-queries.js';
import type { RawQuery } from '../common/query-params.js';
import {
  AuditService,
  DEFAULT_AUDIT_PAGE,
  MAX_AUDIT_PAGE,
  parseAuditFilters,
  type AuditEventView,
} from './audit.service.js';

class AuditEventDto {
  @ApiProperty({ example: 17 }) id: number;
  @ApiProperty({ example: '2026-01-05T09:00:00.000Z' }) at: string;
  @ApiProperty({
    description: 'The API key that made the change; system for the service itself',
    example: '3f9a0c1e2b4d',
  })
  keyId: string;
  @ApiProperty({ example: 'rule.update' }) action: string;
  @ApiProperty({ enum: ['rule', 'api_key', 'alert', 'global_helper', 'data_model'] }) targetType: string;
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) targetId: string;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    example: { version: 2, origin: 'api', enabled: true },
  })
  details: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String, example: '0b7c3f52-9a3e-4f1d-8c2b-5e6a7d8f9012' })
  requestId: string | null;
}

class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String, example: 'MTc2NzYwMzYwMDAwMC4xNw' }) nextCursor: string | null;
}

@ApiTags('audit')
@Controller({ path: 'audit', version: '1' })
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Access('admin')
  @ApiOperation({
    summary: 'Read the audit trail',
    description:
      'Every change to rules, API keys and alerts: which key, what action, on what, when; newest first. Actions: rule.create, rule.update, rule.enable, rule.disable, rule.delete, key.create, key.rotate, key.revoke, alert.status.',
  })
  @ApiQueries(
    text('action', 'Only this action, e.g. rule.update'),
    text('keyId', 'Only changes made with this API key id (system: the service itself)'),
    oneOf(
      'targetType',
      ['rule', 'api_key', 'alert', 'global_helper', 'data_model'],
      'Only changes to this kind of thing',
    ),
    text('targetId', 'Only changes to this rule id, key id or alert id'),
    ...timeRange('Changes made'),
    ...page(MAX_AUDIT_PAGE, DEFAULT_AUDIT_PAGE),
  )
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400)
  list(@Query() query: RawQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    return this.audit.list(parseAuditFilters(query));
  }
}
