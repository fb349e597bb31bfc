// Connections are a resource a client can hold without sending anything worth answering. Two guards:
// - A request answered before its body was read (no key, no route, a limit) closes its connection
//   (`Connection: close`): otherwise Node reads the rest of a trickled body for as long as the client
//   keeps it coming, and a client without a key could hold thousands of connections that way.
// - Open connections are capped in all and per client address; past either cap a new connection is
//   closed at once and the first refusal of each minute is logged, so that one client cannot use up the
//   process's file descriptors and lock out health checks and keyed clients.
import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections in all; 0: no cap. */
  maxConnections: number;
  /** Open connections from one client address; 0: no cap. */
  maxConnectionsPerAddress: number;
}

export type ConnectionRefusal = 'total' | 'per_address';

/** One log line a minute at most about refused connections, however many there are. */
const LOG_EVERY_MS = 60_000;

export function registerConnectionLimits(
  fastify: FastifyInstance,
  limits: ConnectionLimits,
  onRefused: (reason: ConnectionRefusal) => void = () => undefined,
): void {
  const logger = new Logger('Http');
  let open = 0;
  const perAddress = new Map<string, number>();
  let lastLogged = Number.NEGATIVE_INFINITY;
  let refusedSinceLog = 0;

  fastify.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = (perAddress.get(address) ?? 0) + 1;
    const reason: ConnectionRefusal | undefined =
      limits.maxConnections > 0 && open + 1 > limits.maxConnections
        ? 'total'
        : limits.maxConnectionsPerAddress > 0 && fromAddress > limits.maxConnectionsPerAddress
          ? 'per_address'
          : undefined;
    if (reason) {
      socket.destroy();
      onRefused(reason);
      refusedSinceLog += 1;
      const now = Date.now();
      if (now - lastLogged >= LOG_EVERY_MS) {
        logger.warn(
          reason === 'total'
            ? `refusing new connections: ${open} are open (MAX_CONNECTIONS ${limits.maxConnections}); ${refusedSinceLog} refused in the last minute`
            : `refusing new connections from ${address}: it holds ${fromAddress - 1} (MAX_CONNECTIONS_PER_ADDRESS ${limits.maxConnectionsPerAddress}); ${refusedSinceLog} refused in the last minute`,
        );
        lastLogged = now;
        refusedSinceLog = 0;
      }
      return;
    }
    open += 1;
    perAddress.set(address, fromAddress);
    socket.once('close', () => {
      open -= 1;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });

  // Answered while its body is still unread (or still arriving): the connection is not kept.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) void reply.header('connection', 'close');
    done(null, payload);
  });
}
