import {
  applyDecorators,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { Access } from '../auth/access.js';
import { hecErrorAnswer } from './forwarder-answers.js';
import { ForwardersService, type ForwardedBody, type HecSuccess } from './forwarders.service.js';
import { HEC_STATUS, type HecStatusName } from './hec-envelopes.js';

/** Splunk's paths, with and without the version suffix some clients (splunk-logging) add. */
export const HEC_EVENT_PATHS = [
  'services/collector',
  'services/collector/event',
  'services/collector/event/1.0',
];
export const HEC_RAW_PATHS = ['services/collector/raw', 'services/collector/raw/1.0'];

const HEC_ANSWER = {
  type: 'object',
  properties: {
    text: { type: 'string' },
    code: { type: 'integer' },
    'invalid-event-number': { type: 'integer' },
  },
};
/** HEC's answer of a status, as the service writes it. */
function hecAnswer(name: HecStatusName, extra: Record<string, number> = {}): Record<string, unknown> {
  return { text: HEC_STATUS[name].text, code: HEC_STATUS[name].code, ...extra };
}
const HEC_ERRORS = [
  {
    status: 400,
    description: 'No data (5), invalid data format (6), event field required (12) or blank (13)',
    example: hecAnswer('eventRequired', { 'invalid-event-number': 1 }),
  },
  { status: 401, description: 'Token is required (2)', example: hecAnswer('tokenRequired') },
  {
    status: 403,
    description: 'Invalid token (4), or a key without scope ingest: invalid authorization (3)',
    example: hecAnswer('invalidToken'),
  },
  {
    status: 503,
    description: 'Server is busy (9): the key’s rate limit; retry after Retry-After',
    example: hecAnswer('serverBusy'),
  },
];
/** Two raw lines: a JSON event, kept as it is, and text, which becomes {"message": …}. */
const HEC_RAW_EXAMPLE =
  '{"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com","eventTime":"2026-01-05T09:00:00Z"}\nuser root logged in from 198.51.100.7\n';

/** HEC's error answers, documented in its terms rather than as problem+json. */
function ApiHecErrors(): MethodDecorator {
  return applyDecorators(
    ...HEC_ERRORS.map(({ status, description, example }) =>
      ApiResponse({ status, description, content: { 'application/json': { schema: HEC_ANSWER, example } } }),
    ),
  );
}

function forwarded(request: FastifyRequest): ForwardedBody {
  return {
    body: request.body instanceof Readable ? request.body : Readable.from([]),
    contentEncoding: request.headers['content-encoding'],
  };
}

@ApiTags('forwarders')
@Controller({ version: VERSION_NEUTRAL })
export class HecController {
  constructor(private readonly forwarders: ForwardersService) {}

  @Post(HEC_EVENT_PATHS)
  @Access('ingest', { errorAnswerFormat: hecErrorAnswer })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Splunk HTTP Event Collector: events',
    description:
      'Concatenated HEC envelopes {time, host, source, sourcetype, index, event, fields}. Each event is stored as sent (a string holding JSON is parsed, other text becomes {"message": …}); its sourcetype names its log type (HEC_SOURCETYPES, e.g. aws:cloudtrail → AWS.CloudTrail), else the event’s p_log_type or shape does. `Authorization: Splunk <key>` or Bearer, scope ingest. Answers and errors are HEC’s {text, code}.',
  })
  @ApiBody({
    required: true,
    schema: { type: 'object', additionalProperties: true },
    examples: {
      envelope: {
        summary: 'One CloudTrail event',
        value: {
          sourcetype: 'aws:cloudtrail',
          event: { eventName: 'DeleteTrail', eventSource: 'cloudtrail.amazonaws.com' },
        },
      },
    },
  })
  @ApiOkResponse({
    description: 'Stored: {"text":"Success","code":0}',
    schema: HEC_ANSWER,
    example: hecAnswer('success'),
  })
  @ApiHecErrors()
  async events(@Req() request: FastifyRequest): Promise<HecSuccess> {
    return this.forwarders.hecEvents(forwarded(request));
  }

  @Post(HEC_RAW_PATHS)
  @Access('ingest', { errorAnswerFormat: hecErrorAnswer })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Splunk HTTP Event Collector: raw lines',
    description:
      'One event per line: a JSON object as it is, other text as {"message": …}. The sourcetype query parameter names the log type of them all.',
  })
  @ApiQuery({
    name: 'sourcetype',
    required: false,
    example: 'aws:cloudtrail',
    schema: { type: 'string' },
    description: 'The sourcetype of every line, mapped to a log type by HEC_SOURCETYPES',
  })
  @ApiConsumes('text/plain')
  @ApiBody({ required: true, schema: { type: 'string', example: HEC_RAW_EXAMPLE } })
  @ApiOkResponse({
    description: 'Stored: {"text":"Success","code":0}',
    schema: HEC_ANSWER,
    example: hecAnswer('success'),
  })
  @ApiHecErrors()
  async raw(@Req() request: FastifyRequest, @Query('sourcetype') sourcetype?: string): Promise<HecSuccess> {
    return this.forwarders.hecRaw(
      forwarded(request),
      typeof sourcetype === 'string' ? sourcetype : undefined,
    );
  }

  // Vector's healthcheck asks the versioned path.
  @Get(['services/collector/health', 'services/collector/health/1.0'])
  @Access('public', { errorAnswerFormat: hecErrorAnswer })
  @ApiOperation({
    summary: 'Splunk HTTP Event Collector: health',
    description: 'Always {"text":"HEC is healthy","code":17}.',
  })
  @ApiOkResponse({ schema: HEC_ANSWER, example: hecAnswer('healthy') })
  health(): HecSuccess {
    const { text, code } = HEC_STATUS.healthy;
    return { text, code };
  }
}
