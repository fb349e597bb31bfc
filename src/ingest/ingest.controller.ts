import { LOG_TYPE_PATTERN } from '../engine/events.js';
import { Controller, Headers, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { IsOptional, Matches } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { InvalidParametersError } from '../common/errors.js';
import { createValidationPipe } from '../common/validation.js';
import { ApiProblems } from '../common/openapi.js';
import { IngestService, type IngestAnswer } from './ingest.service.js';
import { INGEST_EXAMPLE } from './ingest-examples.js';

/** Routes whose bodies reach the handler as a raw stream (see common/body-parsers.ts). */
export const STREAMED_BODY_ROUTES: ReadonlySet<string> = new Set(['/v1/events']);

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** For a query string the fast path below does not take: checked as every other operation's. */
const queryValidation = createValidationPipe();

export class IngestQuery {
  @ApiPropertyOptional({
    description:
      "Log type of every event (default: each event's p_log_type, else the log type its shape shows, such as AWS CloudTrail's)",
    example: 'AWS.CloudTrail',
  })
  @IsOptional()
  @Matches(LOG_TYPE_PATTERN, {
    message: 'logType must be a log type name such as AWS.CloudTrail',
  })
  logType?: string;
}

class RejectedEventDto {
  @ApiProperty({ description: '0-based position of the event in the batch', example: 2 }) index: number;
  @ApiProperty({
    example:
      'no log type: name one (logType), set p_log_type in the event, or send a recognised shape (AWS CloudTrail: eventSource, eventName, and userIdentity or recipientAccountId)',
  })
  error: string;
}

class IngestWarningDto {
  @ApiProperty({ enum: ['no_rules_for_log_type'] }) code: string;
  @ApiProperty({ example: 'AWS.Cloudtrail' }) logType: string;
  @ApiProperty({ description: 'Accepted events of that log type', example: 12 }) events: number;
  @ApiProperty({ example: 'no enabled rule reads log type AWS.Cloudtrail; did you mean AWS.CloudTrail?' })
  detail: string;
}

class IngestAnswerDto {
  @ApiProperty({ example: 7 }) batchId: number;
  @ApiProperty({ description: 'Events found in the body', example: 13 }) received: number;
  @ApiProperty({ description: 'Events accepted and evaluated by the rules', example: 12 }) accepted: number;
  @ApiProperty({ type: [RejectedEventDto], description: 'The first 1000 rejected events' })
  rejected: RejectedEventDto[];
  @ApiProperty({ example: 1 }) rejectedCount: number;
  @ApiProperty({ description: 'Hits stored', example: 3 }) hits: number;
  @ApiProperty({
    description:
      'Hits not stored again: the rule already matched the same event id (CloudTrail’s eventID, or its log type’s)',
    example: 1,
  })
  duplicateHits: number;
  @ApiProperty({ description: 'Alerts this batch opened', example: 1 }) alerts: number;
  @ApiProperty({ description: 'Open alerts that this batch joined', example: 1 }) alertsUpdated: number;
  @ApiProperty({
    type: [IngestWarningDto],
    description: 'What the sender may want to know although nothing failed: events no enabled rule reads',
  })
  warnings: IngestWarningDto[];
}

/**
 * The query as the global ValidationPipe would give it: no parameter, or a well-formed logType alone,
 * is taken as it is; anything else goes through the same pipe for the same answers and messages.
 */
async function ingestQuery(query: Record<string, unknown>): Promise<IngestQuery> {
  const keys = Object.keys(query);
  if (keys.length === 0) return {};
  const logType = query.logType;
  if (keys.length === 1 && typeof logType === 'string' && LOG_TYPE_PATTERN.test(logType)) return { logType };
  return (await queryValidation.transform(query, { type: 'query', metatype: IngestQuery })) as IngestQuery;
}

@ApiTags('events')
@Controller({ path: 'events', version: '1' })
export class IngestController {
  constructor(private readonly ingestService: IngestService) {}

  @Post()
  @Access('ingest')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a batch of events',
    description:
      'A JSON array, NDJSON, concatenated JSON objects, one object, or a CloudTrail {"Records": [...]} file; plain or with Content-Encoding gzip, deflate or br. Each event is normalised, evaluated by the enabled rules, and every hit stored with the rule’s output fields and grouped into alerts. The batch is one transaction: the answer comes after the commit. An event that cannot be decoded or has no log type is rejected alone, with its index. With an Idempotency-Key, a retry gets the first answer and stores nothing new; a hit for the same rule and event id (CloudTrail’s eventID, or its log type’s own) is stored once in any case.',
  })
  @ApiQuery({
    name: 'logType',
    required: false,
    example: 'AWS.CloudTrail',
    schema: { type: 'string' },
    description:
      "The log type of every event (default: each event's p_log_type, else the log type its shape shows, such as AWS CloudTrail's)",
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Up to 200 visible ASCII characters; kept for 24 hours',
  })
  @ApiBody({
    required: true,
    description: 'Events (the example: the founding rule’s three test events)',
    schema: { type: 'array', items: { type: 'object', additionalProperties: true } },
    examples: { seed: { summary: 'The seed rule’s three test events', value: INGEST_EXAMPLE } },
  })
  @ApiOkResponse({
    type: IngestAnswerDto,
    description: 'Stored (or, with a repeated Idempotency-Key, the first answer again)',
  })
  @ApiProblems(400, 409, 413, 415)
  async ingest(
    @Req() request: FastifyRequest,
    // Typed as a plain record so that the global ValidationPipe passes it through: class-validator took
    // about 8% of a 10-event request's time for the empty query nearly every batch sends.
    @Query() rawQuery: Record<string, unknown>,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestAnswer> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new InvalidParametersError([
        { parameter: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' },
      ]);
    }
    const query = await ingestQuery(rawQuery);
    const body = request.body instanceof Readable ? request.body : Readable.from([]);
    const { replayed, ...answer } = await this.ingestService.ingest({
      body,
      contentType: request.headers['content-type'],
      contentEncoding: request.headers['content-encoding'],
      contentLength: declaredLength(request.headers['content-length']),
      logType: query.logType,
      idempotencyKey,
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return answer;
  }
}

/** The Content-Length header as a number; absent or malformed (Node refuses those first): undefined. */
function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
