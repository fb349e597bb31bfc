// Stopping without losing work: on SIGTERM or SIGINT the server stops accepting connections, lets the
// requests in flight finish (an ingest batch is answered after its commit), closes the database and exits 0.
import { Logger, type INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Once the server is closing, answers say `Connection: close` and connections are closed as soon as their
 * request is answered: a client's idle keep-alive connection would otherwise hold the close until it timed
 * out. (Requests that arrive on an open connection meanwhile get Fastify's 503.)
 */
export function registerConnectionDraining(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (_request, _reply, done) => {
    // After Node has seen the response end, the connection counts as idle.
    if (closing) setImmediate(() => fastify.server.closeIdleConnections());
    done();
  });
}

/**
 * Closes the app on the first SIGTERM or SIGINT and exits 0 once it is closed; exits 1 if it is not closed
 * within `timeoutMs`, or at a second signal.
 */
export function closeOnSignals(app: INestApplication, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting for requests in flight`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: no new connections; finishing requests in flight, then closing the database`);
    const started = Date.now();
    setTimeout(() => {
      logger.error(`still closing after ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS): exiting anyway`);
      process.exit(1);
    }, timeoutMs).unref();
    app.close().then(
      () => {
        logger.log(`stopped in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(`could not close cleanly: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, stop);
}
