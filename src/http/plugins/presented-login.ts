import type { FastifyRequest } from 'fastify';
import { parseToken } from '../../core/tokens.js';
import type { Tessera } from '../../tessera.js';
import {
  parseBearerAuthorization,
  REFRESH_PATH,
  REFRESH_TOKEN_COOKIE,
  usesBearerScheme,
} from '../../wire/credentials.js';

/**
 * Which login a request speaks for, read from its credentials *without* checking them: the
 * anti-CSRF check and the rate limits run before authentication and only need the login id
 * (`sid`), never trust in it. A forged credential naming someone else's login gains nothing:
 * its CSRF token cannot be computed without the server's key, and authentication refuses it.
 */

/** A credential cookie this request will be authenticated by, and the login it names (if any). */
export interface CookieCredential {
  cookie: string;
  /** undefined when the cookie names no login (garbage): such a cookie authenticates nothing. */
  loginId: string | undefined;
}

/** `Authorization: Bearer …`: set by code, never attached by a browser on its own (unlike Basic). */
export const isBearerRequest = (request: FastifyRequest) => usesBearerScheme(request.headers.authorization);

/** The `sid` claim of a compact JWT, decoded without verification; undefined if there is none. */
export function unverifiedJwtSid(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || (parts[1] as string).length > 8192) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null) return undefined;
    const sid = (claims as { sid?: unknown }).sid;
    return typeof sid === 'string' && sid.length > 0 && sid.length <= 200 ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** The login family a refresh token belongs to (one store read), or undefined; for the token modes. */
export async function refreshTokenLogin(tessera: Tessera, token: string): Promise<string | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  return (await tessera.stores.refreshTokens.findRefreshToken(parsed.id))?.sessionId;
}

/** POST /auth/refresh reads the cookie only when the body carries no `refreshToken`. */
function refreshUsesCookie(request: FastifyRequest): boolean {
  if (request.routeOptions.url !== REFRESH_PATH) return false;
  const body = request.body;
  const bodyToken =
    typeof body === 'object' && body !== null ? (body as { refreshToken?: unknown }).refreshToken : undefined;
  return bodyToken === undefined;
}

const memo = new WeakMap<FastifyRequest, Promise<CookieCredential[]>>();

/**
 * The credential cookies the route will use, exactly as src/http/credentials.ts reads them:
 * the mode's cookie unless an Authorization header is present (then cookies are ignored), and
 * the refresh cookie on POST /auth/refresh without a body token. Needs the parsed body.
 */
export function cookieCredentials(request: FastifyRequest): Promise<CookieCredential[]> {
  let found = memo.get(request);
  if (!found) {
    found = readCookieCredentials(request);
    memo.set(request, found);
  }
  return found;
}

async function readCookieCredentials(request: FastifyRequest): Promise<CookieCredential[]> {
  const mode = request.server.loginMode;
  const found: CookieCredential[] = [];
  if (request.headers.authorization === undefined) {
    const cookie = mode.credentialCookie;
    const value = request.cookies[cookie];
    if (value) found.push({ cookie, loginId: mode.loginIdOf(value) });
  }
  const refresh = request.cookies[REFRESH_TOKEN_COOKIE];
  if (refresh && refreshUsesCookie(request)) {
    found.push({ cookie: REFRESH_TOKEN_COOKIE, loginId: await mode.refreshTokenLogin(refresh) });
  }
  return found;
}

/** The login of whatever credential authenticates the request (bearer header or cookie). */
export function presentedLoginId(request: FastifyRequest): string | undefined {
  const mode = request.server.loginMode;
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = parseBearerAuthorization(header);
    return token ? mode.loginIdOf(token) : undefined;
  }
  const value = request.cookies[mode.credentialCookie];
  return value ? mode.loginIdOf(value) : undefined;
}
