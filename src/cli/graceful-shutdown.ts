import type { FastifyInstance } from 'fastify';

/**
 * After SIGTERM the node keeps serving this long while every response says
 * `Connection: close` and /healthz says 503: a client with a keep-alive connection gets its
 * next answer and then reconnects elsewhere, and a load balancer stops sending new requests.
 * Closing an idle keep-alive connection at once would race a request the client is sending
 * on it (reset, and the client cannot tell whether it was processed).
 */
export const DRAIN_MS = 1_000;
/** Requests still in flight after the drain get this long to finish; then every socket is closed. */
export const IN_FLIGHT_BOUND_MS = 10_000;

/**
 * Registers the draining hooks (before listen) and returns `shutDown`: drain, stop listening,
 * close idle connections, wait for requests in flight (at most IN_FLIGHT_BOUND_MS), then run
 * `afterServer` (close the stores).
 */
export function gracefulShutdown(
  app: FastifyInstance,
  afterServer: () => Promise<void>,
): () => Promise<void> {
  let draining = false;
  app.addHook('onRequest', async (request, reply) => {
    if (!draining) return;
    reply.header('connection', 'close');
    if (request.url === '/healthz') {
      return reply.code(503).send({ error: 'shutting_down', message: 'This node is shutting down.' });
    }
  });
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      draining = true;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
      // app.close(): stops listening, closes idle connections, waits for requests in flight.
      const forced = setTimeout(() => app.server.closeAllConnections(), IN_FLIGHT_BOUND_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(forced);
      }
      await afterServer();
    })();
    return done;
  };
}
