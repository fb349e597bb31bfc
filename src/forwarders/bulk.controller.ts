import {
  applyDecorators,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  Res,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { Access } from '../auth/access.js';
import { ELASTIC_PRODUCT_HEADER, elasticsearchErrorAnswer } from './forwarder-answers.js';
import { ForwardersService, type BulkAnswer } from './forwarders.service.js';

/** The Elasticsearch version the root endpoint claims: clients of 8 and 9 accept it. */
export const CLAIMED_ELASTICSEARCH_VERSION = '8.17.0';

/** What GET / answers: Elasticsearch 8's root, as its clients expect it. */
const ELASTICSEARCH_ROOT = {
  name: 'tripline',
  cluster_name: 'tripline',
  cluster_uuid: 'tripline-detections',
  version: {
    number: CLAIMED_ELASTICSEARCH_VERSION,
    build_flavor: 'default',
    build_type: 'tripline',
    build_hash: 'tripline',
    build_date: '2025-01-01T00:00:00.000Z',
    build_snapshot: false,
    lucene_version: '9.12.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
};

const ELASTICSEARCH_ERROR = {
  type: 'object',
  properties: { error: { type: 'object', additionalProperties: true }, status: { type: 'integer' } },
};

/** Elasticsearch's error document, as ours are written (forwarder-answers.ts). */
function elasticsearchError(status: number, type: string, reason: string): Record<string, unknown> {
  const cause = { type, reason };
  return { error: { root_cause: [cause], ...cause }, status };
}

/** Elasticsearch's error answers, documented in its terms rather than as problem+json. */
function ApiElasticsearchErrors(): MethodDecorator {
  return applyDecorators(
    ...[
      {
        status: 400,
        description: 'Not a bulk request (a bad action line); a bad source line fails only its item',
        example: elasticsearchError(400, 'illegal_argument_exception', 'action line 1: invalid JSON'),
      },
      {
        status: 401,
        description: 'No API key, or an unknown one (security_exception)',
        example: elasticsearchError(
          401,
          'security_exception',
          'this operation needs an API key: Authorization: Bearer <key>',
        ),
      },
      {
        status: 403,
        description: 'A key without scope ingest (security_exception)',
        example: elasticsearchError(
          403,
          'security_exception',
          'this operation needs a key with scope ingest; key 3f9a0c1e2b4d has read',
        ),
      },
      {
        status: 429,
        description: 'The key’s rate limit (es_rejected_execution_exception)',
        example: elasticsearchError(
          429,
          'es_rejected_execution_exception',
          'this API key has made too many requests; retry after 1 s',
        ),
      },
    ].map(({ status, description, example }) =>
      ApiResponse({
        status,
        description,
        content: { 'application/json': { schema: ELASTICSEARCH_ERROR, example } },
      }),
    ),
  );
}

/** One action and its source line, and what the bulk endpoints answer for it. */
const BULK_EXAMPLE =
  '{"index":{"_index":"cloudtrail-2025"}}\n{"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com","eventTime":"2026-01-05T09:00:00Z"}\n';
const BULK_ANSWER_EXAMPLE = {
  took: 9,
  errors: false,
  items: [
    {
      index: {
        _index: 'cloudtrail-2025',
        _id: 'yw7SXz24R44D5ci1Nfr2',
        status: 201,
        result: 'created',
        _version: 1,
        _shards: { total: 1, successful: 1, failed: 0 },
      },
    },
  ],
};

/**
 * The body of both bulk endpoints: NDJSON, read whatever its Content-Type. Offered as text/plain because
 * Swagger UI shows a text example under any media type naming json (application/x-ndjson) as one quoted string.
 */
function ApiBulkBody(): MethodDecorator {
  return applyDecorators(
    ApiConsumes('text/plain'),
    ApiBody({ required: true, schema: { type: 'string', example: BULK_EXAMPLE } }),
    ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, example: BULK_ANSWER_EXAMPLE }),
  );
}

@ApiTags('forwarders')
@Controller({ version: VERSION_NEUTRAL })
export class BulkController {
  constructor(private readonly forwarders: ForwardersService) {}

  // Public like /healthz: it names the protocol, nothing a key protects, and clients probe it first.
  @Get()
  @Access('public', { errorAnswerFormat: elasticsearchErrorAnswer })
  @ApiOperation({
    summary: 'Elasticsearch root',
    description: 'Enough of Elasticsearch 8’s root answer for Elasticsearch clients and outputs to connect.',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, example: ELASTICSEARCH_ROOT })
  root(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    void reply.headers(ELASTIC_PRODUCT_HEADER);
    return ELASTICSEARCH_ROOT;
  }

  @Post('_bulk')
  @Access('ingest', { errorAnswerFormat: elasticsearchErrorAnswer })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Elasticsearch bulk: events',
    description:
      'NDJSON action and source lines. index and create store their source as an event, of the log type its index names (_index, else none: BULK_INDICES, e.g. cloudtrail* → AWS.CloudTrail), else of its p_log_type or shape; update and delete are refused per item. The answer is Elasticsearch’s, one item per action.',
  })
  @ApiBulkBody()
  @ApiElasticsearchErrors()
  async bulk(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkAnswer> {
    return this.answer(request, reply, undefined);
  }

  @Post(':index/_bulk')
  @Access('ingest', { errorAnswerFormat: elasticsearchErrorAnswer })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Elasticsearch bulk into one index: events',
    description: 'As POST /_bulk, with this index for actions that name none.',
  })
  @ApiParam({
    name: 'index',
    description: 'The index of actions that name none; its name gives their log type (BULK_INDICES)',
    example: 'cloudtrail-2025',
  })
  @ApiBulkBody()
  @ApiElasticsearchErrors()
  async bulkIntoIndex(
    @Req() request: FastifyRequest,
    @Param('index') index: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkAnswer> {
    return this.answer(request, reply, index);
  }

  private async answer(
    request: FastifyRequest,
    reply: FastifyReply,
    index: string | undefined,
  ): Promise<BulkAnswer> {
    void reply.headers(ELASTIC_PRODUCT_HEADER);
    return this.forwarders.bulk(
      {
        body: request.body instanceof Readable ? request.body : Readable.from([]),
        contentEncoding: request.headers['content-encoding'],
      },
      index,
    );
  }
}
