import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import { UNSAFE_METHODS } from './csrf.js';
import { isBearerRequest } from './presented-login.js';

/**
 * Where a state-changing request comes from. Every POST, PUT, PATCH and DELETE, login and
 * register included (login CSRF: a hostile page must not log the victim into the attacker's
 * account, nor register one from the victim's network), must come from this origin or from a
 * TESSERA_CORS_ORIGINS origin. Only bearer requests are exempt: a browser never attaches an
 * `Authorization: Bearer` header on its own, and a cross-origin page can add one only after a
 * CORS preflight, which unlisted origins fail. A route that also reads a cookie the header does
 * not replace declares `originCheckForBearer` (route-policy.ts): POST /auth/refresh does.
 *
 * The evidence, strongest first:
 * 1. `Origin` listed in TESSERA_CORS_ORIGINS: allowed. `Origin: null` (sandboxed frames,
 *    privacy redirects, file: pages) is never allowed.
 * 2. `Sec-Fetch-Site` (set by the browser; page script cannot forge it): `same-origin` and
 *    `none` (typed by the user) allowed; `same-site` and `cross-site` refused, since a sibling
 *    subdomain is another origin with its own bugs.
 * 3. No `Sec-Fetch-Site` (older browsers): `Origin` must equal this server's own origin,
 *    `scheme://Host` as the request reached it (X-Forwarded-Proto/-Host only from
 *    TESSERA_TRUSTED_PROXIES).
 * 4. Neither header: not a browser (curl, a server, a native app). Allowed; it can do no CSRF,
 *    having no victim's cookies, and a cookie-authenticated request still needs the anti-CSRF
 *    token, so a browser that sends no metadata at all is covered by the token.
 */
export function originAllowed(request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (origin !== undefined && typeof origin !== 'string') return false;
  if (origin === 'null') return false;
  if (origin !== undefined && allowed.has(origin)) return true;
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  if (origin === undefined) return true;
  return origin === `${request.protocol}://${request.host}`;
}

export const originNotAllowed = () => new AuthError('origin_not_allowed');

export function originPlugin(tessera: Tessera) {
  const allowed = new Set(tessera.config.corsOrigins);
  return fp(
    async (app: FastifyInstance) => {
      // onRequest: headers only, before any body is read.
      // Synchronous: every request passes here, and nearly all are GETs that need nothing.
      app.addHook('onRequest', (request, _reply, done) => {
        if (
          !UNSAFE_METHODS.has(request.method) ||
          (isBearerRequest(request) && request.routeOptions.config.originCheckForBearer !== true) ||
          originAllowed(request, allowed)
        ) {
          done();
        } else {
          done(originNotAllowed());
        }
      });
    },
    { name: 'tessera-origin' },
  );
}
