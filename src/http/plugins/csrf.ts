import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import { parseKeyEncryptionKey } from '../../core/jwt/seal.js';
import type { Tessera } from '../../tessera.js';
import {
  ACCESS_TOKEN_COOKIE,
  CSRF_COOKIE,
  CSRF_HEADER,
  csrfTokenFor,
  csrfTokenMatches,
  deriveCsrfKey,
  SESSION_COOKIE,
  UNSAFE_METHODS,
} from '../../wire/credentials.js';
import { requireAuth } from '../credentials.js';
import type { RoutePolicy } from '../route-policy.js';
import { cookieCredentials } from './presented-login.js';
import { addRouteHook } from './route-hooks.js';

/**
 * Anti-CSRF tokens, bound to the login. A state-changing request (POST, PUT, PATCH, DELETE)
 * that a credential *cookie* authenticates must carry `x-csrf-token: HMAC-SHA256(key, sid)`
 * of that cookie's login. Why this shape:
 * - bound to the login (`sid`): a token copied from another session, even the attacker's own,
 *   fails; a new login gets a new token, a password change (same sid) keeps it;
 * - stateless: nothing is stored, every node with the key can check it;
 * - a header: a cross-site form cannot set one, and a cross-site fetch that sets one needs a
 *   CORS preflight that only listed origins pass;
 * - compared with crypto.timingSafeEqual, so response timing does not leak how much matched.
 * Bearer requests need no token: a browser never attaches an Authorization Bearer header itself.
 *
 * Delivery: `GET /auth/csrf` (for clients on a listed origin, which cannot read this host's
 * cookies), and a script-readable `__Host-tessera_csrf` cookie (not a credential, never read by
 * the server) set whenever a login cookie is, so a page reloaded after its access token expired
 * can still send POST /auth/refresh.
 */

// Token derivation and names live in src/wire/credentials.ts, shared with the app adapters.
export { CSRF_COOKIE, CSRF_HEADER, csrfTokenFor, UNSAFE_METHODS };

/**
 * The HMAC key: from TESSERA_CSRF_SECRET, else derived from TESSERA_KEY_ENCRYPTION_KEY (HKDF, so
 * the two uses never share key bytes), else random for this process only (tokens then die with it).
 */
export function csrfKey(tessera: Tessera): { key: Buffer; warning?: string } {
  const { csrfSecret, keyEncryptionKey } = tessera.config;
  if (csrfSecret) return { key: deriveCsrfKey(csrfSecret) };
  if (keyEncryptionKey) return { key: deriveCsrfKey(parseKeyEncryptionKey(keyEncryptionKey)) };
  return {
    key: tessera.runtime.randomBytes(32),
    warning:
      'TESSERA_CSRF_SECRET is not set: anti-CSRF tokens are valid on this process only, until it restarts. Set it (openssl rand -hex 32) on every node.',
  };
}

export const csrfTokenInvalid = () => new AuthError('csrf_token_invalid');

/** The login each credential cookie in this response's Set-Cookie headers opens or clears. */
function loginCookiesSet(reply: FastifyReply): Array<string | null> {
  const header = reply.getHeader('set-cookie');
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
  const found: Array<string | null> = [];
  for (const line of lines) {
    const match = /^([^=;]+)=([^;]*)/.exec(line);
    if (!match || (match[1] !== SESSION_COOKIE && match[1] !== ACCESS_TOKEN_COOKIE)) continue;
    found.push(match[2] ? (reply.server.loginMode.loginIdOf(safeDecode(match[2])) ?? null) : null);
  }
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A server-rendered form cannot set a header, so a form POST (application/x-www-form-urlencoded,
 * parsed only by the OAuth routes: every other route answers 415 first) may carry the same token
 * in a `csrf_token` field. A cross-site form can post fields, but it cannot know the token.
 */
function formCsrfToken(request: FastifyRequest): unknown {
  if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) return undefined;
  const body = request.body;
  return typeof body === 'object' && body !== null
    ? (body as { csrf_token?: unknown }).csrf_token
    : undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The anti-CSRF token of a login (set by the CSRF plugin). */
    csrfTokenFor(loginId: string): string;
  }
}

export function csrfPlugin(tessera: Tessera) {
  return fp(
    async (app: FastifyInstance) => {
      const { key, warning } = csrfKey(tessera);
      if (warning && tessera.config.production) app.log.warn(warning);
      const cookieOptions = {
        path: '/',
        secure: true,
        httpOnly: false, // read by the page's script, which copies it into the header
        sameSite: 'strict',
        maxAge: Math.floor(tessera.config.session.absoluteTimeoutMs / 1000),
      } as const;

      // preValidation: after the body is parsed (POST /auth/refresh reads its cookie only
      // without a body token), before any route's own preHandler authenticates or writes. Only
      // on routes a state-changing method reaches, but the ways in.
      // The ways in declare `csrfExempt` (route-policy.ts): there is no login yet to bind a token
      // to, and a stale cookie must never stop someone from logging in. The Origin check
      // (origin.ts) guards them against login CSRF.
      // A route may take several methods: the filter picks routes, the check each request.
      const needsToken = (method: string, config: RoutePolicy) =>
        UNSAFE_METHODS.has(method) && config.csrfExempt !== true;
      addRouteHook(
        app,
        'preValidation',
        ({ methods, config }) => methods.some((method) => needsToken(method, config)),
        async (request: FastifyRequest) => {
          if (!needsToken(request.method, request.routeOptions.config)) return;
          const presented = request.headers[CSRF_HEADER] ?? formCsrfToken(request);
          for (const { loginId } of await cookieCredentials(request)) {
            // A cookie that names no login authenticates nothing, so it cannot be abused.
            if (loginId !== undefined && !csrfTokenMatches(key, loginId, presented)) throw csrfTokenInvalid();
          }
        },
      );

      // Runs after @fastify/cookie wrote Set-Cookie: follow every login cookie set or cleared.
      // Global (any route that refuses a credential clears its cookie), synchronous, and done at
      // once when the answer sets no cookie, as nearly every answer does.
      app.addHook('onSend', (request, reply, payload, done) => {
        if (reply.hasHeader('set-cookie')) {
          for (const loginId of loginCookiesSet(reply)) {
            if (loginId) reply.setCookie(CSRF_COOKIE, csrfTokenFor(key, loginId), cookieOptions);
            else if (request.cookies[CSRF_COOKIE] !== undefined)
              reply.clearCookie(CSRF_COOKIE, cookieOptions);
          }
        }
        done(null, payload);
      });

      // For server-rendered pages (the OAuth consent form), which put the token in a form field.
      app.decorate('csrfTokenFor', (loginId: string) => csrfTokenFor(key, loginId));

      const api = {
        summary: "The anti-CSRF token for the caller's login, and the header to send it in",
        responses: { 200: z.strictObject({ csrfToken: z.string(), header: z.string() }) },
      };
      app.get('/auth/csrf', { preHandler: requireAuth(), config: { api } }, async (request, reply) => {
        const csrfToken = csrfTokenFor(key, request.auth.sessionId);
        if (request.auth.transport === 'cookie') reply.setCookie(CSRF_COOKIE, csrfToken, cookieOptions);
        return { csrfToken, header: CSRF_HEADER };
      });
    },
    { name: 'tessera-csrf' },
  );
}
