// OpenAPI pieces every controller shares: the problem document and the error answers of an operation.
import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem.filter.js';

export class ProblemDto {
  @ApiProperty({ example: 'urn:problem:tripline:invalid_rule' }) type: string;
  @ApiProperty({ example: 'Unprocessable content' }) title: string;
  @ApiProperty({ example: 422 }) status: number;
  @ApiProperty({ example: 'the rule has an error: unknown key "Sevrity" (line 9, column 1)' }) detail: string;
  @ApiProperty({ example: '/v1/rules' }) instance: string;
  @ApiProperty({ description: 'Stable machine-readable code', example: 'invalid_rule' }) code: string;
  @ApiProperty({ example: 'req-1' }) requestId: string;
  @ApiPropertyOptional({
    description: 'What is wrong and where (varies with the code)',
    type: 'array',
    items: { type: 'object' },
  })
  errors?: unknown[];
}

interface ProblemAnswer {
  /** What the status means for a client, in the OpenAPI document. */
  description: string;
  /** An example, so that Swagger UI shows the right problem under each status. */
  code: string;
  title: string;
  detail: string;
}

const PROBLEM_ANSWERS: Record<number, ProblemAnswer> = {
  400: {
    description: 'Bad parameters; `errors` names each parameter',
    code: 'invalid_parameters',
    title: 'Invalid parameters',
    detail: 'invalid value for limit',
  },
  401: {
    description: 'No API key, or one that is unknown or revoked (`Authorization: Bearer <key>`)',
    code: 'api_key_required',
    title: 'Unauthorized',
    detail: 'this operation needs an API key: Authorization: Bearer <key>',
  },
  403: {
    description: 'The API key lacks the scope this operation needs',
    code: 'insufficient_scope',
    title: 'Forbidden',
    detail: 'this operation needs a key with scope admin; key 3f9a0c1e2b4d has read',
  },
  404: {
    description: 'No such resource',
    code: 'rule_not_found',
    title: 'Not found',
    detail: 'no rule "AWS.CloudTrail.Example"',
  },
  409: {
    description: 'Conflicts with the current state',
    code: 'idempotency_key_reused',
    title: 'Conflict',
    detail: 'this Idempotency-Key was used for a different body',
  },
  413: {
    description: 'Body too large',
    code: 'body_too_large',
    title: 'Body too large',
    detail: 'the body is larger than 16777216 bytes',
  },
  415: {
    description: 'Unsupported Content-Type',
    code: 'unsupported_media_type',
    title: 'Unsupported media type',
    detail: 'Content-Type "text/csv" is not accepted here',
  },
  422: {
    description:
      'The content is understood but refused (invalid rule, failing tests); `errors` or `failedTests` say why',
    code: 'invalid_rule',
    title: 'Unprocessable content',
    detail: 'the rule has an error: unknown key "Sevrity" (line 9, column 1)',
  },
  429: {
    description: 'Too many requests from this API key; `Retry-After` says when to retry',
    code: 'rate_limited',
    title: 'Too many requests',
    detail: 'this API key has made too many requests; retry after 1 s',
  },
  500: {
    description: 'Unexpected error; the body names the request id to quote, and nothing internal',
    code: 'internal_error',
    title: 'Internal error',
    detail: 'the server could not complete the request; quote request id req-1',
  },
  503: {
    description:
      'The database cannot take the request now (it cannot be reached, or a lock was not granted in time), or the service is not ready; nothing was stored; `Retry-After` says when to retry',
    code: 'database_unavailable',
    title: 'Database unavailable',
    detail: 'the database server cannot be reached; nothing of this request was stored: retry after 5 s',
  },
  507: {
    description:
      'The disk holding the database is full; nothing was stored; `Retry-After` says when to retry',
    code: 'storage_full',
    title: 'Insufficient storage',
    detail: 'the disk holding the database is full; nothing of this request was stored: retry after 30 s',
  },
};

/** The OpenAPI response of a problem status: its meaning, the problem schema and an example. */
export function problemResponse(status: number): {
  description: string;
  content: Record<string, { schema: { $ref: string }; example: Record<string, unknown> }>;
} {
  const answer = PROBLEM_ANSWERS[status] ?? {
    description: 'Error',
    code: 'error',
    title: 'Error',
    detail: 'the request failed',
  };
  const example = {
    type: problemType(answer.code),
    title: answer.title,
    status,
    detail: answer.detail,
    instance: '/v1/…',
    code: answer.code,
    requestId: 'req-1',
  };
  return {
    description: answer.description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDto' }, example } },
  };
}

/** Documents the problem+json answers an operation can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));
}

/**
 * Marks an operation whose body is rule YAML (or JSON), or a global helper's or data model's; app.setup
 * fills in the request body.
 */
export function ApiRuleSourceBody(example: 'rule' | 'pack' | 'global' | 'datamodel'): MethodDecorator {
  return applyDecorators(ApiExtension('x-rule-source-body', example));
}
