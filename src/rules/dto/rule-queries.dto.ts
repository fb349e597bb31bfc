import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { InvalidParametersError, type ParameterProblem } from '../../common/errors.js';
import { ToBoolean, ToInteger, ToList } from '../../common/validation.js';
import { isPlainObject } from '../../engine/values.js';
import { LOG_TYPE_PATTERN } from '../../engine/events.js';
import { SEVERITIES } from '../../engine/rule.js';
import { didYouMean } from '../../common/suggestions.js';

const SEVERITY_NAMES = [
  ...SEVERITIES,
  ...SEVERITIES.map((severity) => severity.toUpperCase()),
  ...SEVERITIES.map((s) => s.toLowerCase()),
];

export class UploadRuleQuery {
  @ApiPropertyOptional({
    description: 'Unknown top-level keys become warnings instead of errors',
    default: false,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  ignoreExtraKeys?: boolean;

  @ApiPropertyOptional({
    description: 'Store a rule whose tests fail, disabled, instead of refusing it (422)',
    default: false,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  storeDisabled?: boolean;
}

export class ImportRulesQuery extends UploadRuleQuery {
  @ApiPropertyOptional({
    description: 'Check the pack and report what would change, without changing anything',
    default: false,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  dryRun?: boolean;
}

export const DEFAULT_RULE_PAGE = 100;
export const MAX_RULE_PAGE = 500;

export class ListRulesQuery {
  @ApiPropertyOptional({ description: 'Rules for this log type, e.g. AWS.CloudTrail' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  logType?: string;

  @ApiPropertyOptional({ description: 'Only enabled (true) or disabled (false) rules' })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    description:
      'One or several severities (repeat the parameter or separate with commas), e.g. High,Critical',
    enum: SEVERITIES,
    isArray: true,
  })
  @IsOptional()
  @ToList()
  @IsArray()
  @ArrayNotEmpty({ message: 'severity must name at least one severity' })
  @IsIn(SEVERITY_NAMES, { each: true, message: `severity must be one of ${SEVERITIES.join(', ')}` })
  severity?: string[];

  @ApiPropertyOptional({ description: 'Rules carrying this tag (case-insensitive), e.g. CloudTrail' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tag?: string;

  @ApiPropertyOptional({
    description: 'Text in the rule id, display name or description (case-insensitive), e.g. VPC',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({
    description: 'Page size',
    minimum: 1,
    maximum: MAX_RULE_PAGE,
    default: DEFAULT_RULE_PAGE,
  })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_RULE_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,400}$/, { message: 'cursor must be a nextCursor returned by this list' })
  cursor?: string;
}

export class PatchRuleBody {
  @ApiPropertyOptional({ description: 'Enable or disable the rule (no new version)', example: false })
  @IsBoolean()
  enabled: boolean;
}

export const MAX_TEST_EVENTS = 1000;

/**
 * The body of POST /v1/rules/{ruleId}/test, for the OpenAPI document. It is read by parseTestRuleBody, not
 * the ValidationPipe: the pipe drops `__proto__` and `constructor` keys, and the events must reach the rule
 * exactly as ingest would see them.
 */
export class TestRuleBody {
  @ApiPropertyOptional({
    description: `Events to evaluate instead of the rule's own tests (at most ${MAX_TEST_EVENTS})`,
    type: 'array',
    items: { type: 'object' },
  })
  events?: Record<string, unknown>[];

  @ApiPropertyOptional({
    description:
      "Log type of the events (default: each event's p_log_type, else the rule's first LogTypes entry)",
  })
  logType?: string;
}

/** Checks the body of a rule test by hand, leaving the events exactly as sent (see TestRuleBody). */
export function parseTestRuleBody(body: unknown): { events?: unknown[]; logType?: string } {
  if (body === undefined || body === null) return {};
  if (!isPlainObject(body)) {
    throw new InvalidParametersError([{ parameter: 'body', message: 'the body must be a JSON object' }]);
  }
  const problems: ParameterProblem[] = Object.keys(body)
    .filter((key) => key !== 'events' && key !== 'logType')
    .slice(0, 10)
    .map((key) => {
      const near = didYouMean(key, ['events', 'logType']);
      return {
        parameter: key,
        message: `unknown property ${key}${near === undefined ? '' : `; did you mean ${near}?`}`,
      };
    });
  const { events, logType } = body;
  if (events !== undefined) {
    if (!Array.isArray(events)) problems.push({ parameter: 'events', message: 'events must be an array' });
    else if (events.length > MAX_TEST_EVENTS)
      problems.push({
        parameter: 'events',
        message: `events must contain at most ${MAX_TEST_EVENTS} elements`,
      });
    else if (!events.every(isPlainObject))
      problems.push({ parameter: 'events', message: 'each event must be a JSON object' });
  }
  if (logType !== undefined && (typeof logType !== 'string' || !LOG_TYPE_PATTERN.test(logType))) {
    problems.push({
      parameter: 'logType',
      message: 'logType must be a log type name such as AWS.CloudTrail',
    });
  }
  if (problems.length > 0) throw new InvalidParametersError(problems);
  return {
    ...(events !== undefined ? { events: events as unknown[] } : {}),
    ...(logType !== undefined ? { logType: logType as string } : {}),
  };
}
