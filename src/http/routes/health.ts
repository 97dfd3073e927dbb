import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../tessera.js';

/** 200 when the server and its store answer, 503 otherwise (for load balancers and probes). */
export function healthRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async (request, reply) => {
      try {
        await tessera.store.ping();
        return { status: 'ok', store: tessera.store.engine };
      } catch (error) {
        request.log.warn({ err: error }, 'store did not answer the health check');
        return reply.code(503).send({ error: 'store_unavailable', message: 'The store does not answer.' });
      }
    });
  };
}
