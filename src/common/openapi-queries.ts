// OpenAPI descriptions of the read APIs' shared query parameters.
import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';

export function ApiTimeRange(of: string): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'since',
      required: false,
      description: `${of} at or after this ISO 8601 time`,
      example: '2025-01-01T00:00:00Z',
    }),
    ApiQuery({
      name: 'until',
      required: false,
      description: `${of} before this ISO 8601 time`,
      example: '2026-01-01T00:00:00Z',
    }),
  );
}

export function ApiPage(max: number, fallback: number): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, description: `Page size, 1 to ${max} (default ${fallback})` }),
    ApiQuery({ name: 'cursor', required: false, description: 'The nextCursor of the previous page' }),
  );
}
