import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * How Tessera's credentials look on the wire: cookie names, the anti-CSRF token and header, and
 * the `Authorization: Bearer` syntax. The server (src/http/) and the app adapters
 * (src/adapters/) both read credentials, so both import this file, and it imports nothing but
 * node:crypto: an app using `tessera/express` or `tessera/hono` never loads the server.
 */

/**
 * Cookie names carry their security in the prefix. `__Host-`: the browser refuses the cookie
 * unless it is Secure, has Path=/ and no Domain, so no sibling subdomain or plain-HTTP page
 * can plant or overwrite it. `__Secure-` (for the refresh token, which needs a narrower Path
 * than `/` and so cannot be `__Host-`): Secure is still enforced.
 */
export const SESSION_COOKIE = '__Host-tessera_session';
export const ACCESS_TOKEN_COOKIE = '__Host-tessera_at';
export const REFRESH_TOKEN_COOKIE = '__Secure-tessera_rt';
/** The refresh token is sent to this path only, so no other request ever carries it. */
export const REFRESH_PATH = '/auth/refresh';

/** The anti-CSRF token's header, and its script-readable cookie (not a credential). */
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_COOKIE = '__Host-tessera_csrf';
/** The methods that change state, so need the anti-CSRF token when a cookie authenticates them. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const CSRF_HKDF_INFO = 'tessera anti-csrf v1';

/**
 * The anti-CSRF HMAC key from secret material (TESSERA_CSRF_SECRET, or the key-encryption key's
 * bytes): HKDF-SHA256 with its own info string, so the key never shares bytes with another use.
 */
export function deriveCsrfKey(material: Buffer | string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), CSRF_HKDF_INFO, 32));
}

/** The anti-CSRF token of a login: HMAC-SHA256(key, sid), base64url (43 characters). */
export function csrfTokenFor(key: Buffer, loginId: string): string {
  return createHmac('sha256', key).update(`${CSRF_HKDF_INFO}\0${loginId}`).digest('base64url');
}

/** Whether `presented` is the login's anti-CSRF token, compared in constant time. */
export function csrfTokenMatches(key: Buffer, loginId: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(key, loginId));
  const given = Buffer.from(presented);
  // timingSafeEqual needs equal lengths; the expected length is public (43 characters).
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * RFC 6750 2.1: `Bearer` (the scheme in any case, RFC 9110 11.1), one space, one b64token.
 * Stricter than the grammar's `1*SP` on purpose: no client sends more than one space, and one
 * accepted shape leaves nothing to disagree on.
 */
const BEARER_CREDENTIALS = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of an `Authorization` header value in the Bearer scheme, or undefined when the value
 * is anything else (another scheme, no token, two tokens, a comma-separated list, spaces or
 * characters outside b64token). Never read from a query parameter: URLs end up in logs.
 */
export function parseBearerAuthorization(authorization: string): string | undefined {
  return BEARER_CREDENTIALS.exec(authorization)?.[1];
}

/**
 * Whether the header names the Bearer scheme at all, well-formed or not: a browser never attaches
 * such a header on its own (unlike Basic), so the Origin check need not guard the request.
 */
export const usesBearerScheme = (authorization: string | undefined): boolean =>
  authorization !== undefined && /^Bearer\s/i.test(authorization);
