// What each route needs, declared next to it: @Access('read') and the like. The declaration is Fastify
// route config, so the request guard can check it before a body is read; and it documents the route.
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi.js';
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
    /**
     * Whose protocol the route's answers follow, errors included: Splunk HEC's {text, code} or
     * Elasticsearch's {error, status}; unset, problem+json (see common/problem.filter.ts).
     */
    answers?: AnswerDialect;
  }
}

/** The protocols whose answers a route may give instead of problem+json. */
export type AnswerDialect = 'hec' | 'elasticsearch';

/**
 * Who may call the route; `answers` makes its errors (the guard's 401/403/429 included) follow a
 * forwarder protocol. Both are one RouteConfig, as a second RouteConfig would replace the first.
 */
export function Access(level: AccessLevel, options: { answers?: AnswerDialect } = {}): MethodDecorator {
  const config = RouteConfig({ access: level, ...options });
  if (level === 'public') return applyDecorators(config);
  return applyDecorators(
    config,
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension('x-required-scope', level),
    // A forwarder route documents its own error answers.
    ...(options.answers === undefined ? [ApiProblems(401, 403, 429)] : []),
  );
}

/** Who is making the request, for the audit trail: the authenticated key and the request id. */
export const RequestActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { keyId: request.apiKey?.id ?? 'anonymous', requestId: request.id };
});
