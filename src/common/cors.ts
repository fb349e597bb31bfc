// CORS for the configured browser origins only. Without CORS_ORIGINS no CORS header is ever sent, so a
// browser page elsewhere cannot read answers. A preflight is answered here, before the key check: a
// browser never sends credentials with one.
import type { FastifyInstance } from 'fastify';

const ALLOWED_HEADERS = 'authorization, content-type, content-encoding, idempotency-key, x-request-id';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const EXPOSED_HEADERS = 'x-request-id, retry-after, idempotent-replayed';

export function registerCors(fastify: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  fastify.addHook('onRequest', async (request, reply) => {
    // Answers differ by Origin, so a shared cache must keep them apart, allowed or not.
    void reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return;
    void reply.header('access-control-allow-origin', origin);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      return reply
        .status(204)
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .send();
    }
    void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
  });
}
