import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../tessera.js';

/**
 * 200 when the server and every store it depends on answer, 503 otherwise (for load balancers
 * and probes). The body names the store engine and, with TESSERA_REDIS_URL, Redis's state, so an
 * operator sees which dependency is down: `{status, store, redis?, down?}`.
 */
export function healthRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async (request, reply) => {
      const { redis } = tessera;
      const [store, cache] = await Promise.allSettled([tessera.stores.ping(), redis?.ping()]);
      const down = [
        ...(store.status === 'rejected' ? ['store'] : []),
        ...(redis && cache.status === 'rejected' ? ['redis'] : []),
      ];
      const body = {
        status: down.length === 0 ? 'ok' : 'unavailable',
        store: tessera.stores.engine,
        ...(redis ? { redis: cache.status === 'fulfilled' ? 'ok' : 'down' } : {}),
      };
      if (down.length === 0) return body;
      for (const result of [store, cache]) {
        if (result.status === 'rejected') request.log.warn({ err: result.reason }, 'health check failed');
      }
      const message =
        down.length === 2
          ? 'Neither the store nor Redis answers.'
          : down[0] === 'redis'
            ? 'Redis does not answer.'
            : 'The store does not answer.';
      return reply.code(503).send({ error: 'store_unavailable', message, ...body, down });
    });
  };
}
