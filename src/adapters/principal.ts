import type { ErrorCode } from '../core/errors.js';
import { ACCESS_TOKEN_COOKIE, parseBearerAuthorization, SESSION_COOKIE } from '../wire/credentials.js';

/**
 * What an app server learns about a caller, and how a refusal is told. Shared by the verifier
 * (`tessera/verify`) and the middleware of every framework.
 */

/**
 * How an app checks credentials. `session`: asks Tessera (GET /auth/session). `jwt`: verifies
 * access tokens locally with the published JWKS. `hybrid`: jwt plus the revocation state fed by
 * the revocation bus and log, so a revoked token is refused at once.
 */
export type VerifierMode = 'session' | 'jwt' | 'hybrid';

export type Transport = 'bearer' | 'cookie';

/** Who is calling: the same shape whatever the mode. */
export interface Principal {
  userId: string;
  roles: readonly string[];
  /**
   * OAuth scopes / API-key scopes. Always empty until API keys and OAuth tokens arrive (they
   * will fill it); a route that requires scopes refuses logins until then.
   */
  scopes: readonly string[];
  /** The login: session id, or the `sid` of a jwt/hybrid token family. Revocation targets it. */
  sessionId: string;
  mode: VerifierMode;
  /** How the credential arrived: cookie-authenticated state changes need the anti-CSRF header. */
  transport: Transport;
  /** When the presented credential stops working if nothing else happens (ms since the epoch). */
  expiresAt: number;
  /**
   * When the user last proved who they are on this login (ms since the epoch; a token's
   * `auth_time`), how (RFC 8176 `amr`, e.g. ["pwd"], ["mfa","otp","pwd"], ["hwk"]) and to what
   * level (`acr`: aal1, aal2). `requireAuth({ freshWithin, amr })` decides on them. Undefined /
   * empty for an API key, which proves no user's presence.
   */
  authTime: number | undefined;
  amr: readonly string[];
  acr: string | undefined;
}

/**
 * A refusal. `code` is Tessera's stable error code (`unauthenticated`, `token_expired`,
 * `token_revoked`, `token_invalid_signature`, …, `tessera_unavailable`, `store_unavailable`),
 * so a client acts on it exactly as on Tessera's own answers: `token_expired` means refresh.
 */
export interface AuthFailure {
  code: ErrorCode;
  status: 401 | 503;
  message: string;
  /** Whether a credential was presented (RFC 6750: then the challenge says `invalid_token`). */
  credentialPresented: boolean;
}

export type VerifyResult = { ok: true; principal: Principal } | { ok: false; failure: AuthFailure };

/** A credential as found on a request. */
export interface PresentedCredential {
  token: string;
  transport: Transport;
}

/** The request headers the verifier reads; every framework can hand these over. */
export interface CredentialHeaders {
  authorization?: string | undefined;
  cookie?: string | undefined;
}

/** The cookie Tessera sets in each mode (`__Host-`: Secure, Path=/, no Domain). */
export const credentialCookieOf = (mode: VerifierMode) =>
  mode === 'session' ? SESSION_COOKIE : ACCESS_TOKEN_COOKIE;

/**
 * The credential exactly as Tessera reads it (src/http/credentials.ts): `Authorization: Bearer`
 * when that header is present (then cookies are ignored, and any other scheme means none), else
 * the mode's cookie. Never a query parameter: URLs end up in logs and Referer headers.
 */
export function presentedCredential(
  headers: CredentialHeaders,
  cookieName: string,
): PresentedCredential | undefined {
  if (headers.authorization !== undefined) {
    const token = parseBearerAuthorization(headers.authorization);
    return token ? { token, transport: 'bearer' } : undefined;
  }
  const token = headers.cookie === undefined ? undefined : cookieValue(headers.cookie, cookieName);
  return token ? { token, transport: 'cookie' } : undefined;
}

/** One cookie's value from a Cookie header (the first of that name), percent-decoded. */
export function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

export const failure = (
  code: ErrorCode,
  status: AuthFailure['status'],
  message: string,
  credentialPresented: boolean,
): VerifyResult => ({ ok: false, failure: { code, status, message, credentialPresented } });
