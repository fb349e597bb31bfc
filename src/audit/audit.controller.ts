import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import { ApiPage, ApiTimeRange } from '../common/openapi-queries.js';
import type { RawQuery } from '../common/query-params.js';
import {
  AuditService,
  DEFAULT_AUDIT_PAGE,
  MAX_AUDIT_PAGE,
  parseAuditFilters,
  type AuditEventView,
} from './audit.service.js';

class AuditEventDto {
  @ApiProperty() id: number;
  @ApiProperty() at: string;
  @ApiProperty({ description: 'The API key that made the change; system for the service itself' })
  keyId: string;
  @ApiProperty({ example: 'rule.update' }) action: string;
  @ApiProperty({ enum: ['rule', 'api_key', 'alert'] }) targetType: string;
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) targetId: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true })
  details: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
}

class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
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
  @ApiQuery({ name: 'action', required: false, description: 'e.g. rule.update' })
  @ApiQuery({ name: 'keyId', required: false })
  @ApiQuery({ name: 'targetType', required: false, enum: ['rule', 'api_key', 'alert'] })
  @ApiQuery({ name: 'targetId', required: false })
  @ApiTimeRange('Changes made')
  @ApiPage(MAX_AUDIT_PAGE, DEFAULT_AUDIT_PAGE)
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400)
  list(@Query() query: RawQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    return this.audit.list(parseAuditFilters(query));
  }
}
