import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { AuthError } from '../../core/errors.js';
import type { TesseraMetrics } from '../../metrics/metrics.js';
import type { RouteSeries } from '../../metrics/request-durations.js';
import type { Tessera } from '../../tessera.js';
import { parseBearerAuthorization } from '../../wire/credentials.js';

/**
 * GET /metrics (Prometheus text), never public by default (docs/DEPLOY.md, "Metrics"):
 * - TESSERA_METRICS_PORT: on its own listener (TESSERA_HOST, that port), and not on the main
 *   port at all; with TESSERA_METRICS_TOKEN too, that listener asks for the token as well;
 * - else TESSERA_METRICS_TOKEN: on the main port, only with `Authorization: Bearer <token>`
 *   (401 otherwise: the scraper's operator learns it is the token, not the path, that is wrong);
 * - neither: no route, no metrics, no per-request work (404 like any unknown path).
 *
 * Request durations are recorded by an onResponse hook attached to each route when it is added
 * (onRoute, so routes registered later are covered), holding that route's series: a request
 * costs one array update, no label hashing, no route lookup.
 */
export function metricsPlugin(tessera: Tessera) {
  return fp(
    async (app: FastifyInstance) => {
      const metrics = tessera.metrics;
      const settings = tessera.config.metrics;
      if (!metrics || !settings) return;
      app.addHook('onRoute', (route: RouteOptions) => {
        const method = Array.isArray(route.method) ? route.method.join(',') : route.method;
        const hook = timingHook(metrics.requests.series(method, route.url));
        route.onResponse = [hook, ...hooksOf(route.onResponse)] as RouteOptions['onResponse'];
      });
      const tokenMatches = settings.token === undefined ? () => true : bearerCheck(settings.token);
      if (settings.port === undefined) {
        app.get(
          '/metrics',
          { config: { api: { hidden: 'Prometheus text, not JSON' } } },
          async (request, reply) => {
            if (!tokenMatches(request.headers.authorization)) {
              reply.header('www-authenticate', 'Bearer realm="tessera-metrics"');
              throw new AuthError('unauthenticated', 'GET /metrics needs the metrics bearer token.');
            }
            return reply.type(metrics.contentType).send(await metrics.scrape());
          },
        );
        return;
      }
      const port = settings.port;
      let server: Server | undefined;
      app.addHook('onReady', async () => {
        server = await listenForScrapes(metrics, tokenMatches, tessera.config.host, port);
      });
      app.addHook('onClose', async () => {
        const closing = server;
        if (!closing) return;
        // A scrape in flight or a scraper's kept-alive connection must not hold the shutdown.
        const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeAllConnections();
        await closed;
      });
    },
    { name: 'tessera-metrics' },
  );
}

/** The whole per-request cost of metrics: one synchronous hook (bench/metrics-hook.mjs times it). */
export const timingHook =
  (series: RouteSeries) => (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    series.record(reply.statusCode, reply.elapsedTime);
    done();
  };

function hooksOf(hooks: unknown): unknown[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** Constant-time: both sides hashed first, so neither the length nor a prefix leaks through time. */
function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const presented = authorization === undefined ? undefined : parseBearerAuthorization(authorization);
    const digest = createHash('sha256')
      .update(presented ?? '')
      .digest();
    return timingSafeEqual(digest, expected) && presented !== undefined;
  };
}

/** The metrics port: a bare node:http server that answers GET /metrics and nothing else. */
function listenForScrapes(
  metrics: TesseraMetrics,
  tokenMatches: (authorization: string | undefined) => boolean,
  host: string,
  port: number,
): Promise<Server> {
  const answer = (response: ServerResponse, status: number, type: string, body: string) => {
    response.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(body);
  };
  const json = (code: string, message: string) => JSON.stringify({ error: code, message });
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return answer(
        response,
        404,
        'application/json; charset=utf-8',
        json('not_found', 'Only GET /metrics is here.'),
      );
    }
    if (!tokenMatches(request.headers.authorization)) {
      response.setHeader('www-authenticate', 'Bearer realm="tessera-metrics"');
      return answer(
        response,
        401,
        'application/json; charset=utf-8',
        json('unauthenticated', 'GET /metrics needs the metrics bearer token.'),
      );
    }
    metrics.scrape().then(
      (text) => answer(response, 200, metrics.contentType, text),
      () =>
        answer(
          response,
          500,
          'application/json; charset=utf-8',
          json('internal_error', 'The metrics could not be collected.'),
        ),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(`TESSERA_METRICS_PORT: cannot listen on ${host}:${port} (${error.code ?? error.message})`, {
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolve(server));
  });
}
