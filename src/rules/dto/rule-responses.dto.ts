// Response shapes, declared for the OpenAPI document.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SEED_RULE_EXAMPLE } from '../rule-examples.js';

const SEED_RULE_NAME = 'External Principal Accessing AWS Resources Via VPC Endpoint';

class TestCountsDto {
  @ApiProperty({ example: 3 }) passed: number;
  @ApiProperty({ example: 0 }) failed: number;
}

class RuleErrorsDto {
  @ApiProperty({ example: 0, description: 'Errors raised while evaluating the rule on events' })
  count: number;
  @ApiProperty({ nullable: true, type: String, example: null }) last: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) lastAt: string | null;
}

export class RuleSummaryDto {
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) ruleId: string;
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty({ example: true }) enabled: boolean;
  @ApiProperty({ nullable: true, type: String, example: SEED_RULE_NAME }) displayName: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example:
      'Detects when a principal from one AWS account accesses resources in a different account through a VPC endpoint.',
  })
  description: string | null;
  @ApiProperty({ example: 'Medium' }) severity: string;
  @ApiProperty({ example: ['AWS.CloudTrail'] }) logTypes: string[];
  @ApiProperty({ example: ['AWS', 'CloudTrail'] }) tags: string[];
  @ApiProperty({ example: { 'MITRE ATT&CK': ['TA0005:T1599'] } }) reports: Record<string, string[]>;
  @ApiProperty({ example: 'rule' }) analysisType: string;
  @ApiProperty({
    example: 'condition',
    description:
      'The rule format its source is read and run with: panther (match expressions, Detection) or condition (condition lines, Condition), or a plug-in format’s name',
  })
  detectionLanguage: string;
  @ApiProperty({ description: 'Whether ingest evaluates the rule now (enabled, and a streaming rule)' })
  running: boolean;
  @ApiPropertyOptional({
    description: 'Why the rule does not run on events: disabled, or a scheduled rule (not run yet)',
    example: 'disabled',
  })
  notRunning?: string;
  @ApiProperty({ enum: ['builtin', 'api', 'import'] }) origin: string;
  @ApiProperty({ type: TestCountsDto }) tests: TestCountsDto;
  @ApiProperty({ type: RuleErrorsDto }) errors: RuleErrorsDto;
  @ApiProperty({ example: '2026-01-02T10:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: '2026-01-05T09:00:00.000Z' }) updatedAt: string;
}

export class RuleDetailDto extends RuleSummaryDto {
  @ApiProperty({ description: 'The source of the current version, as uploaded', example: SEED_RULE_EXAMPLE })
  source: string;
  @ApiProperty({ enum: ['yaml', 'json'] }) sourceFormat: string;
  @ApiProperty({
    description: 'The rule as the engine parsed it',
    type: 'object',
    additionalProperties: true,
    example: {
      analysisType: 'rule',
      ruleId: 'AWS.CloudTrail.VPCE.ExternalPrincipal',
      displayName: SEED_RULE_NAME,
      enabled: true,
      logTypes: ['AWS.CloudTrail'],
      severity: 'Medium',
      condition: ['userIdentity.type eq "AWSAccount"', 'recipientAccountId is_not_null'],
    },
  })
  definition: unknown;
}

export class RuleListDto {
  @ApiProperty({ type: [RuleSummaryDto] }) items: RuleSummaryDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as cursor for the next page; null on the last page',
    example: 'QVdTLkNsb3VkVHJhaWwuVlBDRS5FeHRlcm5hbFByaW5jaXBhbA',
  })
  nextCursor: string | null;
}

export class TestResultDto {
  @ApiProperty({ example: 'External Principal Access' }) name: string;
  @ApiProperty({ example: true }) passed: boolean;
  @ApiProperty({ example: ['ExpectedResult: expected true, got false'] }) failures: string[];
  @ApiPropertyOptional({
    example: "the rule failed on this log: Cannot read properties of undefined (reading 'type')",
  })
  error?: string;
}

export class DiagnosticDto {
  @ApiProperty({ example: 'unknown_key' }) code: string;
  @ApiProperty({ example: 'unknown key "Sevrity"' }) message: string;
  @ApiPropertyOptional({
    example: 'rules/aws_cloudtrail_rules/aws_root_login.yml',
    description: 'The file of an archive or multipart upload it is in',
  })
  file?: string;
  @ApiPropertyOptional({ example: 'Sevrity' }) key?: string;
  @ApiPropertyOptional({ example: 9 }) line?: number;
  @ApiPropertyOptional({ example: 1 }) column?: number;
}

export class UploadResultDto {
  @ApiProperty({
    enum: ['created', 'updated', 'unchanged'],
    description: 'unchanged: identical to the current version, nothing stored',
  })
  action: string;
  @ApiProperty({ type: RuleSummaryDto }) rule: RuleSummaryDto;
  @ApiProperty({ type: [TestResultDto] }) tests: TestResultDto[];
  @ApiProperty({ type: [DiagnosticDto] }) warnings: DiagnosticDto[];
}

export class RuleVersionDto {
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) ruleId: string;
  @ApiProperty({ example: 2 }) version: number;
  @ApiProperty({ description: 'This is the version the rule runs' }) current: boolean;
  @ApiProperty({ enum: ['builtin', 'api', 'import'] }) origin: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The API key that made it (once keys exist)',
    example: '3f9a0c1e2b4d',
  })
  createdByKey: string | null;
  @ApiProperty({ example: '2026-01-05T09:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: 'Medium' }) severity: string;
  @ApiProperty({ nullable: true, type: String, example: SEED_RULE_NAME }) displayName: string | null;
  @ApiProperty({
    description: 'sha256 of the source',
    example: 'cd77c7d4f60ac243ead156c360e0575ff20e0aedaca4da0f0bc9d0be105b5225',
  })
  contentHash: string;
  @ApiProperty({ type: TestCountsDto }) tests: TestCountsDto;
  @ApiPropertyOptional({
    description:
      'A Python rule’s: the version of each global helper and data model its tests ran with, by id',
    example: { globals: { panther_aws_helpers: 3, panther_base_helpers: 5 }, dataModels: {} },
  })
  testedWith?: { globals: Record<string, number>; dataModels: Record<string, number> };
  @ApiPropertyOptional({ description: 'Only when one version is asked for', example: SEED_RULE_EXAMPLE })
  source?: string;
}

export class RuleVersionListDto {
  @ApiProperty({ type: [RuleVersionDto] }) items: RuleVersionDto[];
}

export class EventTestResultDto {
  @ApiProperty({ description: '0-based position in the events list', example: 0 }) index: number;
  @ApiProperty({ example: true }) matched: boolean;
  @ApiPropertyOptional({ example: 'AWS.CloudTrail' }) logType?: string;
  @ApiPropertyOptional({
    description: 'Why the event could not be evaluated',
    example: 'an event must be a JSON object',
  })
  error?: string;
  @ApiPropertyOptional({ example: 'Root login from 198.51.100.7' }) title?: string;
  @ApiPropertyOptional({ example: '198.51.100.7' }) dedup?: string;
  @ApiPropertyOptional({ example: 'High' }) severity?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The rule's output fields (AlertContext)",
    example: { eventName: 'ConsoleLogin', sourceIPAddress: '198.51.100.7' },
  })
  outputFields?: Record<string, unknown>;
}

export class RuleTestRunDto {
  @ApiPropertyOptional({
    type: [TestResultDto],
    description: "The rule's own tests (when no events were given)",
  })
  tests?: TestResultDto[];
  @ApiPropertyOptional({ type: [EventTestResultDto], description: 'One entry per given event' })
  events?: EventTestResultDto[];
  @ApiPropertyOptional({ description: 'How many of the given events matched', example: 1 }) hits?: number;
}

class ImportItemDto {
  @ApiProperty({ example: 'AWS.CloudTrail.VPCE.ExternalPrincipal' }) ruleId: string;
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'] }) action: string;
  @ApiProperty({ description: 'The version stored (or that would be, in a dry run)', example: 1 })
  version: number;
  @ApiProperty({ example: true }) enabled: boolean;
  @ApiProperty({ type: TestCountsDto }) tests: TestCountsDto;
  @ApiPropertyOptional({ type: [TestResultDto] }) failedTests?: TestResultDto[];
}

class ImportLibraryItemDto {
  @ApiProperty({ enum: ['global_helper', 'data_model'], example: 'global_helper' }) kind: string;
  @ApiProperty({ example: 'panther_base_helpers' }) id: string;
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'], example: 'created' }) action: string;
  @ApiProperty({ example: 1 }) version: number;
}

export class ImportReportDto {
  @ApiProperty({ example: false }) dryRun: boolean;
  @ApiProperty({ example: 1 }) created: number;
  @ApiProperty({ example: 0 }) updated: number;
  @ApiProperty({ example: 3 }) unchanged: number;
  @ApiProperty({ type: [ImportItemDto] }) rules: ImportItemDto[];
  @ApiProperty({ type: [ImportLibraryItemDto], description: 'The pack’s global helpers and data models' })
  library: ImportLibraryItemDto[];
  @ApiProperty({ type: [DiagnosticDto] }) warnings: DiagnosticDto[];
}
