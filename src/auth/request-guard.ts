// Every request passes here first (a Fastify onRequest hook, before any body is read): the route's
// declared access is checked against the presented API key and the key's rate limit. Routes that declare
// nothing need an admin key, so a route added without a thought is closed, not open.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../common/errors.js';
import type { ProblemFilter } from '../common/problem.filter.js';
import { credentialsOf, scopesAllow, type AccessLevel } from './api-key.js';
import type { ApiKeysService } from './api-keys.service.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RequestGuardOptions {
  keys: ApiKeysService;
  limiter: RateLimiter;
  problems: ProblemFilter;
  /** Path prefixes served without a key besides routes declared public (Swagger UI and its document). */
  publicPrefixes: readonly string[];
}

export function registerRequestGuard(fastify: FastifyInstance, options: RequestGuardOptions): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await guard(request, options);
    } catch (error) {
      return options.problems.send(error, request, reply);
    }
  });
}

function accessOf(request: FastifyRequest, publicPrefixes: readonly string[]): AccessLevel | 'no_route' {
  const declared = request.routeOptions.config.access;
  if (declared !== undefined) return declared;
  const route = request.routeOptions.url;
  // No route matched: the answer is a 404 whoever asks, and says nothing a key would protect.
  if (route === undefined) return 'no_route';
  return publicPrefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`))
    ? 'public'
    : 'admin';
}

async function guard(request: FastifyRequest, options: RequestGuardOptions): Promise<void> {
  const access = accessOf(request, options.publicPrefixes);
  if (access === 'public' || access === 'no_route') return;
  const token = credentialsOf(request.headers.authorization);
  if (token === undefined)
    throw new UnauthorizedError(
      'api_key_required',
      'this operation needs an API key: Authorization: Bearer <key>',
    );
  if (token === null)
    throw new UnauthorizedError('invalid_api_key', 'the Authorization header must be "Bearer <key>"');
  const key = await options.keys.authenticate(token);
  if (!key) throw new UnauthorizedError('invalid_api_key', 'the API key is unknown or revoked');
  request.apiKey = key;
  const decision = options.limiter.take(key.id);
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds);
  if (!scopesAllow(key.scopes, access)) {
    throw new ForbiddenError(
      `this operation needs a key with scope ${access}${access === 'admin' ? '' : ' or admin'}; key ${key.id} has ${key.scopes.join(', ')}`,
      { requiredScope: access, keyScopes: key.scopes },
    );
  }
}
