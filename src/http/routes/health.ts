import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorBody } from '../../core/errors.js';
import { storageProblem } from '../../store/errors.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { errorAnswer } from '../api/schemas.js';

/**
 * /healthz answers within this even when a dependency does not (packets dropped: a query
 * would otherwise wait for its own timeouts): a probe that hangs is as bad as one that lies.
 */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * 200 when the server and every store it depends on answer, 503 otherwise (for load balancers
 * and probes), always within HEALTH_CHECK_TIMEOUT_MS. The body names the store engine and,
 * with TESSERA_REDIS_URL, Redis's state, so an operator sees which dependency is down:
 * `{status, store, redis?, down?, reasons?}`. On SQLite the check includes a write (see
 * SqliteStore#ping), so a full or read-only disk shows here. `reasons` says why each
 * dependency is down, as a stable code: `timeout`, `unavailable`, or a storage problem
 * (`storage_full`, `storage_read_only`, `storage_failed`).
 */
const health = {
  store: z.string(),
  redis: z.enum(['ok', 'down']).optional(),
};
const healthApi: RouteApi = {
  summary: 'Liveness and dependencies (503 names what is down)',
  responses: {
    200: z.strictObject({ status: z.literal('ok'), ...health }),
    503: z.strictObject({
      ...errorAnswer.shape,
      status: z.literal('unavailable'),
      ...health,
      down: z.array(z.enum(['store', 'redis'])),
      reasons: z.record(z.string(), z.string()),
    }),
  },
};

export function healthRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', { config: { api: healthApi } }, async (request, reply) => {
      const { redis } = tessera;
      const [store, cache] = await Promise.allSettled([
        withinBound(tessera.stores.ping()),
        redis && withinBound(redis.ping()),
      ]);
      const reasons: Record<string, string> = {};
      if (store.status === 'rejected') reasons.store = reasonOf(store.reason);
      if (redis && cache.status === 'rejected') reasons.redis = reasonOf(cache.reason);
      const down = Object.keys(reasons);
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
            : reasons.store?.startsWith('storage_')
              ? "The database's storage refuses writes."
              : 'The store does not answer.';
      return reply.code(503).send({ ...errorBody('store_unavailable', message), ...body, down, reasons });
    });
  };
}

class HealthCheckTimeout extends Error {}

function withinBound(check: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HealthCheckTimeout(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)),
      HEALTH_CHECK_TIMEOUT_MS,
    );
  });
  // The check itself goes on in the background and fails by its own timeouts; nobody waits.
  check.catch(() => undefined);
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

function reasonOf(error: unknown): string {
  if (error instanceof HealthCheckTimeout) return 'timeout';
  return storageProblem(error) ?? 'unavailable';
}
