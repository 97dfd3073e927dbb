import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { flushLog } from '../http/log-destination.js';

/**
 * How long, after SIGTERM, open keep-alive connections may still bring a request (answered,
 * with `Connection: close`) before idle ones are closed. Closing an idle keep-alive
 * connection at once races a request the client is sending on it: the client gets a reset and
 * cannot tell whether it was processed.
 */
export const DRAIN_MS = 1_000;
/** Requests still in flight after the drain get this long to finish; then every socket is closed. */
export const IN_FLIGHT_BOUND_MS = 10_000;

/**
 * Registers the draining hook (before listen) and returns `shutDown`, which:
 * 1. stops accepting connections (a client then gets a refused connection: nothing was sent,
 *    safe to retry on another node), but keeps the open ones, idle ones included;
 * 2. answers every request from then on with `Connection: close`, so each client moves on
 *    after its next answer, and /healthz with 503 `shutting_down`;
 * 3. after DRAIN_MS (or once no connection is left) closes idle connections and waits for
 *    requests in flight, at most IN_FLIGHT_BOUND_MS; then runs `afterServer` (the stores);
 * 4. writes out the buffered log lines (log-destination.ts), the last requests' included.
 */
export function gracefulShutdown(
  app: FastifyInstance,
  afterServer: () => Promise<void>,
): () => Promise<void> {
  let draining = false;
  // Synchronous: every request passes here, and an async hook costs each one a promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (!draining) return done();
    reply.header('connection', 'close');
    if (request.url === '/healthz') {
      reply.code(503).send({ error: 'shutting_down', message: 'This node is shutting down.' });
      return;
    }
    done();
  });
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      draining = true;
      // net.Server's close, not http.Server's: the latter also closes idle keep-alive
      // connections at once, the race this drain exists to avoid.
      NetServer.prototype.close.call(app.server);
      const drainEnds = Date.now() + DRAIN_MS;
      while (Date.now() < drainEnds && (await openConnections(app)) > 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // app.close(): closes idle connections, waits for requests in flight.
      const forced = setTimeout(() => app.server.closeAllConnections(), IN_FLIGHT_BOUND_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(forced);
      }
      try {
        await afterServer();
      } finally {
        flushLog();
      }
    })();
    return done;
  };
}

function openConnections(app: FastifyInstance): Promise<number> {
  return new Promise((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
}
