// OpenAPI descriptions of the read APIs' shared query parameters. Filters carry no `example`: Swagger UI's
// "Try it out" would fill it in, and a list would come back filtered by it.
import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';

export function ApiTimeRange(of: string): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'since',
      required: false,
      description: `${of} at or after this ISO 8601 time, e.g. 2025-01-01T00:00:00Z`,
    }),
    ApiQuery({
      name: 'until',
      required: false,
      description: `${of} before this ISO 8601 time, e.g. 2026-01-01T00:00:00Z`,
    }),
  );
}

export function ApiPage(max: number, fallback: number): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, description: `Page size, 1 to ${max} (default ${fallback})` }),
    ApiQuery({ name: 'cursor', required: false, description: 'The nextCursor of the previous page' }),
  );
}
