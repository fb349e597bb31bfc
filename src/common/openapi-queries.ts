// OpenAPI descriptions of the read APIs' query parameters, each with a schema (so that Swagger UI offers a
// dropdown for a list of names and checks a number) and a description, in the order they are written.
// Filters carry no `example`: Swagger UI's "Try it out" would fill it in, and a list would come back
// filtered by it.
import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { SEVERITIES } from '../engine/rule.js';

export interface QueryParameter {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

/** Every parameter of an operation, listed in Swagger UI in the order given here. */
export function ApiQueries(...parameters: QueryParameter[]): MethodDecorator {
  return applyDecorators(
    ...parameters.map((parameter) =>
      ApiQuery({
        name: parameter.name,
        required: false,
        description: parameter.description,
        schema: parameter.schema,
      }),
    ),
  );
}

export const text = (name: string, description: string): QueryParameter => ({
  name,
  description,
  schema: { type: 'string' },
});

export const positiveInteger = (name: string, description: string, maximum?: number): QueryParameter => ({
  name,
  description,
  schema: { type: 'integer', minimum: 1, ...(maximum === undefined ? {} : { maximum }) },
});

/** One or several of `names`: repeated, or comma-separated. */
export const oneOrSeveral = (
  name: string,
  names: readonly string[],
  description: string,
): QueryParameter => ({
  name,
  description: `${description} One or several: repeat the parameter or separate with commas.`,
  schema: { type: 'array', items: { type: 'string', enum: [...names] } },
});

export const oneOf = (name: string, names: readonly string[], description: string): QueryParameter => ({
  name,
  description,
  schema: { type: 'string', enum: [...names] },
});

export const ruleIdParameter = (what: string): QueryParameter =>
  text('ruleId', `Only the ${what} of this rule, e.g. AWS.CloudTrail.VPCE.ExternalPrincipal`);

export const severityParameter = (what: string): QueryParameter =>
  oneOrSeveral('severity', SEVERITIES, `Only ${what} of these severities.`);

export function timeRange(of: string): QueryParameter[] {
  return [
    {
      name: 'since',
      description: `${of} at or after this ISO 8601 time, e.g. 2025-01-01T00:00:00Z`,
      schema: { type: 'string', format: 'date-time' },
    },
    {
      name: 'until',
      description: `${of} before this ISO 8601 time, e.g. 2026-01-01T00:00:00Z`,
      schema: { type: 'string', format: 'date-time' },
    },
  ];
}

export function page(max: number, fallback: number, prefix = ''): QueryParameter[] {
  const name = (base: string) =>
    prefix === '' ? base : `${prefix}${base.charAt(0).toUpperCase()}${base.slice(1)}`;
  return [
    positiveInteger(name('limit'), `Page size, 1 to ${max} (default ${fallback})`, max),
    text(name('cursor'), 'The nextCursor of the previous page'),
  ];
}
