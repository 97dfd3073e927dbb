import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_USER_AGENT_LENGTH } from '../core/device.js';
import { AuthError, unauthenticated } from '../core/errors.js';
import type { Activity, ClientContext } from '../core/sessions.js';
import type { TokenPair } from '../core/token-logins.js';
import type { MaybePromise } from '../store/ports/index.js';
import type { Tessera } from '../tessera.js';
import {
  ACCESS_TOKEN_COOKIE,
  parseBearerAuthorization,
  REFRESH_PATH,
  REFRESH_TOKEN_COOKIE,
  SESSION_COOKIE,
} from '../wire/credentials.js';
import type { Authenticated, Transport } from './modes/login-mode.js';

// The names are shared with the app adapters (src/wire/credentials.ts explains the prefixes).
export { ACCESS_TOKEN_COOKIE, REFRESH_PATH, REFRESH_TOKEN_COOKIE, SESSION_COOKIE };

// No Max-Age on the session cookie: it ends with the browser session, and the server enforces
// the real idle and absolute limits either way.
const SESSION_COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } as const;
const ACCESS_COOKIE_OPTIONS = SESSION_COOKIE_OPTIONS;
// TESSERA_COOKIE_SAMESITE: Lax unless configured Strict (buildApp decorates the app with it).
const sameSiteOf = (reply: FastifyReply) => ({ sameSite: reply.server.cookieSameSite ?? 'lax' });
// Strict: a refresh is never started by another site, not even by a top-level link.
const REFRESH_COOKIE_OPTIONS = {
  path: REFRESH_PATH,
  secure: true,
  httpOnly: true,
  sameSite: 'strict',
} as const;

// Who is calling and how, whatever the mode (the types live with the modes: modes/login-mode.ts).
export type { Authenticated, Transport };

/**
 * `x-tessera-background: 1`: the request is a page's own polling, not the user's activity. It
 * needs a live login like any other but does not renew it (sliding renewal), so an idle user
 * is signed out after the idle timeout even with the admin console open. Any client may send it.
 */
export const BACKGROUND_HEADER = 'x-tessera-background';

export function activityOf(request: FastifyRequest): Activity {
  return { background: request.headers[BACKGROUND_HEADER] === '1' };
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated;
  }
  interface FastifyInstance {
    cookieSameSite?: 'lax' | 'strict';
  }
}

/**
 * The presented credential: `Authorization: Bearer` (non-browser clients) or the mode's cookie.
 * Never a URL query parameter: URLs end up in logs, history and Referer headers.
 */
export function presentedCredential(
  request: FastifyRequest,
  cookieName: string,
): { token: string; transport: Transport } | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = parseBearerAuthorization(header);
    return token ? { token, transport: 'bearer' } : undefined;
  }
  const cookie = request.cookies[cookieName];
  return cookie ? { token: cookie, transport: 'cookie' } : undefined;
}

/**
 * Resolves the caller by the deployment's mode (request.server.loginMode: modes/). Throws (or
 * rejects with) a 401 AuthError when a credential is missing or refused: in jwt mode with the
 * verifier's own code (`token_expired` tells a client to refresh, any other code to log in
 * again); in session mode always `unauthenticated`. Synchronous when the mode's check is (see
 * LoginMode.authenticate): callers `await` it inside a `try`, or handle both as requireAuth does.
 */
export function authenticate(request: FastifyRequest): MaybePromise<Authenticated> {
  const mode = request.server.loginMode;
  const presented = presentedCredential(request, mode.credentialCookie);
  if (!presented) throw unauthenticated();
  return mode.authenticate(request, presented);
}

/**
 * The caller if the request carries a live credential, else undefined (for login and logout).
 * Only a refused credential (401) means "nobody": when the store or the revocation state cannot
 * answer (503), that is the answer, so a logout never claims success for what it could not record.
 */
export async function optionalAuth(request: FastifyRequest): Promise<Authenticated | undefined> {
  try {
    return await authenticate(request);
  } catch (error) {
    if (error instanceof AuthError && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * preHandler for routes that need a caller: sets `request.auth` or answers 401. A callback-style
 * hook, so that when authentication is synchronous (nearly every request) fastify's hook runner
 * goes on at once, with no promise and no microtask turn in between.
 */
export function requireAuth() {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    let auth: MaybePromise<Authenticated>;
    try {
      auth = authenticate(request);
    } catch (error) {
      done(refused(request, reply, error));
      return;
    }
    if (auth instanceof Promise) {
      auth.then(
        (caller) => {
          request.auth = caller;
          done();
        },
        (error: unknown) => done(refused(request, reply, error)),
      );
      return;
    }
    request.auth = auth;
    done();
  };
}

/** requireAuth for a hook of its own that goes on after it (the admin gates): rejects on refusal. */
export async function establishCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    request.auth = await authenticate(request);
  } catch (error) {
    throw refused(request, reply, error);
  }
}

/**
 * A refused credential: a refused session cookie is dead for good, so it is cleared. An
 * access-token cookie is kept: the client refreshes and gets a new one. A bad bearer header says
 * nothing about cookies. The error, to pass on.
 */
function refused(request: FastifyRequest, reply: FastifyReply, error: unknown): Error {
  const mode = request.server.loginMode;
  if (error instanceof AuthError && mode.refusedCookieIsDead && request.headers.authorization === undefined) {
    clearCredentialCookies(request, reply);
  }
  return error as Error;
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { ...SESSION_COOKIE_OPTIONS, ...sameSiteOf(reply) });
}

/** Browsers get both tokens in HttpOnly cookies, never in a body script could read. */
export function setTokenCookies(tessera: Tessera, reply: FastifyReply, pair: TokenPair): void {
  const accessMaxAge = Math.max(0, Math.floor((pair.accessTokenExpiresAt - tessera.runtime.now()) / 1000));
  reply.setCookie(ACCESS_TOKEN_COOKIE, pair.accessToken, {
    ...ACCESS_COOKIE_OPTIONS,
    ...sameSiteOf(reply),
    maxAge: accessMaxAge,
  });
  reply.setCookie(REFRESH_TOKEN_COOKIE, pair.refreshToken, {
    ...REFRESH_COOKIE_OPTIONS,
    maxAge: Math.floor(tessera.config.session.absoluteTimeoutMs / 1000),
  });
}

/** The refresh token a client presents: its cookie, or `refreshToken` in a bearer client's body. */
export function presentedRefreshToken(
  request: FastifyRequest,
  bodyToken: string | undefined,
): string | undefined {
  return bodyToken ?? request.cookies[REFRESH_TOKEN_COOKIE];
}

/** Tells the browser to drop every credential cookie it sent; silent for those it did not send. */
export function clearCredentialCookies(request: FastifyRequest, reply: FastifyReply): void {
  const cookies: Array<[string, object]> = [
    [SESSION_COOKIE, SESSION_COOKIE_OPTIONS],
    [ACCESS_TOKEN_COOKIE, ACCESS_COOKIE_OPTIONS],
    [REFRESH_TOKEN_COOKIE, REFRESH_COOKIE_OPTIONS],
  ];
  for (const [name, options] of cookies) {
    if (request.cookies[name] !== undefined) reply.clearCookie(name, options);
  }
}

/**
 * Clears the refresh cookie even though the browser never sends it outside /auth/refresh: on
 * logout the server cannot see it, but must still make the browser forget it.
 */
export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_TOKEN_COOKIE, REFRESH_COOKIE_OPTIONS);
}

export function clientContext(request: FastifyRequest): ClientContext {
  const userAgent = request.headers['user-agent'] ?? '';
  return { ip: request.ip, userAgent: userAgent.slice(0, MAX_USER_AGENT_LENGTH) };
}
