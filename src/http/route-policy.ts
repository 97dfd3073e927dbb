/**
 * The web defences a route asks for, declared on the route itself in fastify's `config` (as
 * @fastify/rate-limit reads `config.rateLimit`), so a route's policy is read where the route is:
 *
 *   app.post('/auth/login', { config: { rateLimitAction: 'login', csrfExempt: true } }, handler)
 *
 * The plugins read it from `route.config` when a route is added (route-hooks.ts) and from
 * `request.routeOptions.config` per request. A route that declares nothing gets the defaults:
 * no brute-force limit, the anti-CSRF token on every state-changing cookie-authenticated
 * request, and the Origin check on every state-changing request that is not bearer-authenticated.
 */

import type { RouteApi } from './api/route-api.js';

/** The routes that check a secret or create something, each with its own limits (rate-limit.ts). */
/** `challenge`: routes that store a short-lived challenge for anyone who asks (passkey login options). */
export type RateLimitedAction = 'login' | 'register' | 'refresh' | 'password' | 'challenge';

export interface RoutePolicy {
  /** Count each attempt against this action's per-IP and per-account limits (rate-limit.ts). */
  rateLimitAction?: RateLimitedAction;
  /**
   * No anti-CSRF token (csrf.ts): for the ways in (login, register), which have no login yet to
   * bind a token to, and which a stale cookie must never block. The Origin check still guards them.
   */
  csrfExempt?: boolean;
  /**
   * Check the Origin of bearer requests too (origin.ts). A route that also reads a cookie the
   * Authorization header does not replace (POST /auth/refresh and its refresh cookie) needs it.
   */
  originCheckForBearer?: boolean;
  /**
   * jwt and hybrid modes: this route may trust a verified access token without asking the
   * store whether its login is still live (modes/token-mode.ts, requireLiveLogin). Only
   * `GET /auth/session` says so (it changes nothing and is the per-request check apps make);
   * every other route asks.
   */
  tokenAlone?: boolean;
  /** The route in GET /openapi.json (api/route-api.ts): every route declares one. */
  api?: RouteApi;
}

declare module 'fastify' {
  interface FastifyContextConfig extends RoutePolicy {}
}
