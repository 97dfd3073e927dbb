// Shared by the bench servers that are not Tessera: the port, the answer's shape, and request
// logging that matches what Tessera (fastify + pino at info, one line per request) writes.
import pino from 'pino';
import { AccessLog } from '../../dist/http/access-log.js';

export const port = Number(process.env.TESSERA_PORT ?? 0);
export const host = '127.0.0.1';

/** The same JSON shape (and about the same size) as Tessera's GET /auth/session in session mode. */
export const sessionBody = {
  user: { id: 'kMdkNZWWXF_cw37t_F-usw', email: 'bench@example.com', roles: [] },
  session: {
    id: 'rewaa_hi3yXi0owz-3nsmw',
    mode: 'session',
    createdAt: '2026-11-28T05:13:27.223Z',
    expiresAt: '2026-11-28T05:43:27.223Z',
    absoluteExpiresAt: '2026-11-28T17:13:27.223Z',
  },
};

/**
 * The logging options of every fastify-based bench server: pino at info with Tessera's redact
 * paths, and Tessera's own access-log controller (one line per request, same fields), so the
 * ratios price authentication, not logging.
 */
export const fastifyLogging = {
  logger: {
    level: 'info',
    redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
  },
  logController: new AccessLog(),
};

/**
 * For servers without fastify (node:http, express): the one line Tessera writes per request,
 * through pino to stdout, with the same fields (and a per-request child logger, as fastify has).
 */
export function requestLogger() {
  const log = pino({ level: 'info' });
  let next = 0;
  return (req, res) => {
    const reqId = `req-${(++next).toString(36)}`;
    const start = performance.now();
    const child = log.child({ reqId });
    res.once('finish', () => {
      child.info(
        {
          method: req.method,
          url: req.url,
          ip: req.socket.remoteAddress,
          statusCode: res.statusCode,
          responseTime: performance.now() - start,
        },
        'request',
      );
    });
  };
}

/**
 * Redis key prefix per server process, so a bench run never touches anyone else's keys: the one
 * bench/run.mjs gives (BENCH_REDIS_PREFIX, under its run's prefix, deleted at the end), or one of
 * this process's own.
 */
export const redisPrefix = (name) =>
  process.env.BENCH_REDIS_PREFIX || `tessera-bench:${name}:${process.pid}:`;
