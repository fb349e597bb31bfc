// What each route needs, declared next to it: @Access('read') and the like. The declaration is Fastify
// route config, so the request guard can check it before a body is read; and it documents the route.
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi.js';
import type { ErrorAnswerFormat } from '../common/problem.filter.js';
import type { AccessLevel } from './api-key.js';
import type { AuthenticatedKey } from './api-keys.service.js';

/** The name of the bearer scheme in the OpenAPI document (Swagger UI's "Authorize"). */
export const BEARER_SCHEME = 'api-key';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key that authenticated this request; unset on public routes. */
    apiKey?: AuthenticatedKey;
  }
  interface FastifyContextConfig {
    access?: AccessLevel;
  }
}

/**
 * Who may call the route; `errorAnswerFormat` makes its errors (the guard's 401/403/429 included) follow
 * its clients' protocol instead of problem+json. Both are one RouteConfig, as a second RouteConfig would
 * replace the first.
 */
export function Access(
  level: AccessLevel,
  options: { errorAnswerFormat?: ErrorAnswerFormat } = {},
): MethodDecorator {
  const config = RouteConfig({ access: level, ...options });
  if (level === 'public') return applyDecorators(config);
  return applyDecorators(
    config,
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension('x-required-scope', level),
    // A route with its own error answer format documents its own error answers.
    ...(options.errorAnswerFormat === undefined ? [ApiProblems(401, 403, 429)] : []),
  );
}

/** Who is making the request, for the audit trail: the authenticated key and the request id. */
export const RequestActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { keyId: request.apiKey?.id ?? 'anonymous', requestId: request.id };
});
