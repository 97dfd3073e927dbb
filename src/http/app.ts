import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { errorBody } from '../core/errors.js';
import { redisCounters } from '../store/redis/rate-limit-counters.js';
import type { Tessera } from '../tessera.js';
import { AccessLog } from './access-log.js';
import { openApiPlugin, openApiRoute } from './api/openapi-route.js';
import { registerErrorHandling } from './errors.js';
import { chooseLoginMode } from './modes/choose-mode.js';
import { CONNECTION_TIMEOUTS, capConnectionsPerIp, MAX_CONNECTIONS_PER_IP } from './plugins/connections.js';
import { corsPlugin } from './plugins/cors.js';
import { csrfPlugin } from './plugins/csrf.js';
import { jsonLimitsPlugin } from './plugins/limits.js';
import { metricsPlugin } from './plugins/metrics.js';
import { originPlugin } from './plugins/origin.js';
import { type RateLimitOptions, rateLimitPlugin } from './plugins/rate-limit.js';
import { securityHeadersPlugin, setSecurityHeaders } from './plugins/security-headers.js';
import { serverTransport } from './plugins/tls.js';
import { adminApiRoutes } from './routes/admin-api.js';
import { adminConsoleRoutes } from './routes/admin-console.js';
import { adminMailRoutes } from './routes/admin-mail.js';
import { adminOAuthRoutes } from './routes/admin-oauth.js';
import { adminWebhookRoutes } from './routes/admin-webhooks.js';
import { authRoutes } from './routes/auth.js';
import { emailRoutes } from './routes/email.js';
import { emailPageRoutes } from './routes/email-pages.js';
import { healthRoutes } from './routes/health.js';
import { mfaRoutes } from './routes/mfa.js';
import { oauthRoutes } from './routes/oauth.js';
import { oauthAccountRoutes } from './routes/oauth-account.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { sessionRoutes } from './routes/sessions.js';
import { stepUpRoutes } from './routes/step-up.js';

/**
 * Auth requests are small (the longest field is a 1024-character password); a small cap
 * stops memory and CPU being spent on junk before any handler runs.
 */
const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppOptions {
  /** false for silence (tests); otherwise pino writes JSON lines to stdout. */
  logger?: boolean;
  /** Rate-limit policy and counter engine (tests; a Redis engine later). */
  rateLimits?: RateLimitOptions;
}

/** The HTTP face of Tessera, assembled from one plugin per concern. */
export async function buildApp(tessera: Tessera, options: AppOptions = {}): Promise<FastifyInstance> {
  const { trustedProxies, logLevel } = tessera.config;
  const app = Fastify({
    // HTTPS when TESSERA_TLS_CERT/KEY are set; the header size cap either way.
    ...serverTransport(tessera.config),
    // Slow clients cannot hold sockets: bounds and reasons in plugins/connections.ts.
    requestTimeout: CONNECTION_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeout: CONNECTION_TIMEOUTS.keepAliveTimeoutMs,
    connectionTimeout: CONNECTION_TIMEOUTS.socketIdleTimeoutMs,
    logger:
      options.logger === false
        ? false
        : {
            level: logLevel,
            // Credentials travel in these headers; they must never reach a log line.
            redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
          },
    // One access line per request instead of fastify's two (access-log.ts).
    logController: new AccessLog(),
    // X-Forwarded-For is believed only from listed proxies; otherwise any client could pick its IP.
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    bodyLimit: BODY_LIMIT_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Errors the router raises before any handler (a malformed percent-encoding, an over-long
    // path parameter) get the same {error, message} shape as every other error.
    // No hook runs for these, so the security headers are set here.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode === 414 ? 414 : 400;
      const code = status === 414 ? 'uri_too_long' : 'bad_request';
      setSecurityHeaders(request, reply as FastifyReply);
      void (reply as FastifyReply)
        .code(status)
        .send(errorBody(code, 'The request URL is malformed or too long.'));
    },
  });

  if (tessera.config.tls) capConnectionsPerIp(app.server, MAX_CONNECTIONS_PER_IP);
  // A skipped breach check (service unreachable) is accepted, and said so: breached-passwords.ts.
  tessera.breachedPasswords?.onUnavailable((reason) =>
    app.log.warn(
      { reason },
      'breached-password check skipped: the range API is unreachable; the password was accepted',
    ),
  );
  registerErrorHandling(app, tessera.telemetry, tessera.metrics?.requests.series('*', 'unmatched'));
  // Every route's config.api, collected as routes are added, for GET /openapi.json (api/).
  await app.register(openApiPlugin());
  // GET /metrics and the per-route timing hooks, before any other route (metrics.ts); nothing when off.
  await app.register(metricsPlugin(tessera));
  await app.register(openApiRoute(tessera));
  app.decorateRequest('auth', null as never);
  await app.register(fastifyCookie);
  // JSON only: a text/plain body is a classic way to send a cross-site POST without a CORS
  // preflight, and nothing here reads text.
  app.removeContentTypeParser('text/plain');
  await app.register(jsonLimitsPlugin());
  app.decorate('cookieSameSite', tessera.config.cookieSameSite);
  // The mode, chosen once: credentials, logins and mode-only routes (modes/login-mode.ts).
  app.decorate('loginMode', chooseLoginMode(tessera));

  // Web defences (docs/SECURITY.md): hooks that cover every route, added later too (global, or
  // attached by onRoute to the routes they concern: route-hooks.ts).
  await app.register(securityHeadersPlugin());
  await app.register(corsPlugin(tessera));
  await app.register(originPlugin(tessera));
  await app.register(csrfPlugin(tessera));
  if (tessera.config.rateLimit) {
    // With Redis the counts are shared by every node; otherwise each node counts alone.
    const counters = tessera.redis && redisCounters(tessera.redis.client);
    const onLimited = (action: string) => tessera.telemetry.rateLimited(action);
    await app.register(rateLimitPlugin({ ...(counters && { counters }), onLimited, ...options.rateLimits }));
  }

  await app.register(healthRoutes(tessera));
  await app.register(authRoutes(tessera));
  // Second factors and step-up (issue 18).
  await app.register(mfaRoutes(tessera));
  await app.register(stepUpRoutes(tessera));
  await app.register(sessionRoutes(tessera));
  // Passkeys (WebAuthn): registration, the user's list, and the passwordless way in.
  await app.register(passkeyRoutes(tessera));
  await app.register(adminApiRoutes(tessera));
  await app.register(adminConsoleRoutes());
  // The mode's own routes: jwt and hybrid's refresh and public keys; session mode's public keys (OAuth).
  await app.register(app.loginMode.routes);
  // Third-party applications (OAuth 2.1) and API keys, in every mode.
  await app.register(oauthRoutes(tessera));
  await app.register(oauthAccountRoutes(tessera));
  await app.register(adminOAuthRoutes(tessera));
  await app.register(adminWebhookRoutes(tessera));
  // Account recovery and verification by email: JSON routes, the pages links open, the outbox's log.
  tessera.email.delivery.useLogger(app.log);
  tessera.events.delivery.useLogger(app.log);
  await app.register(emailRoutes(tessera));
  await app.register(emailPageRoutes());
  await app.register(adminMailRoutes(tessera));
  return app;
}
