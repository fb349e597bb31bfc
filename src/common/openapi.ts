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

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad parameters; `errors` names each parameter',
  401: 'No API key, or one that is unknown or revoked (`Authorization: Bearer <key>`)',
  403: 'The API key lacks the scope this operation needs',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Unsupported Content-Type',
  422: 'The content is understood but refused (invalid rule, failing tests); `errors` or `failedTests` say why',
  429: 'Too many requests from this API key; `Retry-After` says when to retry',
  503: 'Not ready',
};

/** What each answer looks like, so that Swagger UI shows the right one under each status. */
const EXAMPLES: Record<number, [code: string, title: string, detail: string]> = {
  400: ['invalid_parameters', 'Invalid parameters', 'invalid value for limit'],
  401: ['api_key_required', 'Unauthorized', 'this operation needs an API key: Authorization: Bearer <key>'],
  403: [
    'insufficient_scope',
    'Forbidden',
    'this operation needs a key with scope admin; key 3f9a0c1e2b4d has read',
  ],
  404: ['rule_not_found', 'Not found', 'no rule "AWS.CloudTrail.Example"'],
  409: ['idempotency_key_reused', 'Conflict', 'this Idempotency-Key was used for a different body'],
  413: ['body_too_large', 'Body too large', 'the body is larger than 16777216 bytes'],
  415: ['unsupported_media_type', 'Unsupported media type', 'Content-Type "text/csv" is not accepted here'],
  422: [
    'invalid_rule',
    'Unprocessable content',
    'the rule has an error: unknown key "Sevrity" (line 9, column 1)',
  ],
  429: ['rate_limited', 'Too many requests', 'this API key has made too many requests; retry after 1 s'],
  500: [
    'internal_error',
    'Internal error',
    'the server could not complete the request; quote request id req-1',
  ],
  503: ['not_ready', 'Not ready', 'the database does not answer'],
};

export function problemExample(status: number): Record<string, unknown> {
  const [code, title, detail] = EXAMPLES[status] ?? ['error', 'Error', 'the request failed'];
  return {
    type: problemType(code),
    title,
    status,
    detail,
    instance: '/v1/…',
    code,
    requestId: 'req-1',
  };
}

/** Documents the problem+json answers an operation can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: '#/components/schemas/ProblemDto' },
            example: problemExample(status),
          },
        },
      }),
    ),
  );
}

/** Marks an operation whose body is rule YAML (or JSON); app.setup fills in the request body. */
export function ApiRuleSourceBody(example: 'rule' | 'pack'): MethodDecorator {
  return applyDecorators(ApiExtension('x-rule-source-body', example));
}
