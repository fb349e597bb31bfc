// One log entry per HTTP request, when its answer has been sent (or when its client went away first): what was asked (the path only: query
// strings may hold values worth keeping out of logs), the status, how long it took, the request id and the
// key that made it. Never headers or bodies. Through Nest's Logger, so that `logger: false` silences it.
import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { LogFields } from './json-logger.js';

export function registerRequestLogging(fastify: FastifyInstance): void {
  const logger = new Logger('Http');
  fastify.addHook('onResponse', (request, reply, done) => {
    const failed = reply.statusCode >= 500;
    if (!Logger.isLevelEnabled(failed ? 'error' : 'log')) {
      done();
      return;
    }
    const path = request.url.split('?', 1)[0] ?? '';
    const entry: LogFields = {
      msg: `${request.method} ${path} ${reply.statusCode}`,
      method: request.method,
      path,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      requestId: request.id,
      keyId: request.apiKey?.id,
    };
    if (failed) logger.error(entry);
    else logger.log(entry);
    done();
  });
  // A client that closes the connection before its answer: no answer is sent, so none is logged above.
  fastify.addHook('onRequestAbort', (request, done) => {
    if (Logger.isLevelEnabled('log')) {
      const path = request.url.split('?', 1)[0] ?? '';
      logger.log({
        msg: `${request.method} ${path} aborted by the client`,
        method: request.method,
        path,
        aborted: true,
        requestId: request.id,
        keyId: request.apiKey?.id,
      });
    }
    done();
  });
}
