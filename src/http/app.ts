import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Tessera } from '../tessera.js';
import { registerErrorHandling } from './errors.js';
import { adminApiRoutes } from './routes/admin-api.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { sessionRoutes } from './routes/sessions.js';
import { tokenRoutes } from './routes/tokens.js';

/**
 * Auth requests are small (the longest field is a 1024-character password); a small cap
 * stops memory and CPU being spent on junk before any handler runs.
 */
const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppOptions {
  /** false for silence (tests); otherwise pino writes JSON lines to stdout. */
  logger?: boolean;
}

/** The HTTP face of Tessera, assembled from one plugin per concern. */
export async function buildApp(tessera: Tessera, options: AppOptions = {}): Promise<FastifyInstance> {
  const { trustedProxies, logLevel } = tessera.config;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: logLevel,
            // Credentials travel in these headers; they must never reach a log line.
            redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
          },
    // X-Forwarded-For is believed only from listed proxies; otherwise any client could pick its IP.
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    bodyLimit: BODY_LIMIT_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Errors the router raises before any handler (a malformed percent-encoding, an over-long
    // path parameter) get the same {error, message} shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode === 414 ? 414 : 400;
      const code = status === 414 ? 'uri_too_long' : 'bad_request';
      void (reply as FastifyReply)
        .code(status)
        .send({ error: code, message: 'The request URL is malformed or too long.' });
    },
  });

  registerErrorHandling(app);
  app.decorateRequest('auth', null as never);
  await app.register(fastifyCookie);
  // JSON only: a text/plain body is a classic way to send a cross-site POST without a CORS
  // preflight, and nothing here reads text.
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (_request, reply) => {
    // Responses carry personal data and credentials: no cache, shared or private, keeps them
    // (unless a route chose otherwise, like the public JWKS).
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });

  await app.register(healthRoutes(tessera));
  await app.register(authRoutes(tessera));
  await app.register(sessionRoutes(tessera));
  await app.register(adminApiRoutes(tessera));
  if (tessera.tokens && tessera.keyring)
    await app.register(tokenRoutes(tessera, tessera.tokens, tessera.keyring));
  return app;
}
