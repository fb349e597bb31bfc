// OpenAPI pieces every controller shares: the problem document and the error answers of an operation.
import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem.filter.js';

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

/** Documents the problem+json answers an operation can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDto' } } },
      }),
    ),
  );
}

/** Marks an operation whose body is rule YAML (or JSON); app.setup fills in the request body. */
export function ApiRuleSourceBody(example: 'rule' | 'pack'): MethodDecorator {
  return applyDecorators(ApiExtension('x-rule-source-body', example));
}
