import { JwtError } from './errors.js';
import type { JsonObject } from './json.js';

/** RFC 9068 2.1: the `typ` of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** A verified access token's claims (RFC 9068 2.2): exactly these, nothing copied beyond them. */
export interface AccessTokenClaims {
  iss: string;
  aud: string | readonly string[];
  /** The user. */
  sub: string;
  /** The session (login) the token belongs to: what revocation targets. */
  sid: string;
  jti: string;
  /** NumericDate: seconds since the Unix epoch. */
  iat: number;
  exp: number;
  nbf?: number;
  roles: readonly string[];
  /** OAuth (delegated) tokens only: the application the user delegated to (RFC 9068 2.2). */
  client_id?: string;
  /** OAuth tokens only: space-separated scopes (RFC 9068 2.2.3). */
  scope?: string;
  /** When the user last proved who they are (NumericDate; OIDC Core 2, RFC 9068 2.2.1). */
  auth_time?: number;
  /** How (RFC 8176 values) and to what level: core/auth-context.ts. */
  amr?: readonly string[];
  acr?: string;
}

export interface ClaimsPolicy {
  issuer: string;
  /** The expected `aud`; undefined only with `delegated: 'require'` (the caller checks aud). */
  audience: string | undefined;
  /** Tolerance for clock drift between issuer and verifier, in seconds (at most 60). */
  clockSkewSeconds: number;
  /**
   * The longest `exp - iat` this issuer gives its tokens (the configured access-token TTL).
   * Whoever holds a leaked signing key could otherwise mint a token valid for years; capped,
   * such a token is worth no more than a stolen one. Tolerance: clockSkewSeconds.
   */
  maxLifetimeSeconds: number;
  /**
   * `refuse` (default): a token carrying `client_id` was delegated to a third-party application
   * and never opens a first-party login. `require`: only such tokens (the OAuth endpoints).
   */
  delegated?: 'refuse' | 'require';
}

/** The longest access-token lifetime Tessera issues, whatever the configuration says. */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/** RFC 7519 allows leeway of "a few minutes"; RFC 9068 tokens live minutes, so we allow at most one. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/**
 * Checks a claims set (already signature-verified) against the policy at time `nowMs`, and
 * returns a fresh frozen object of the claims we know: an unexpected claim is never passed on.
 * Order: shape first (token_claims_invalid), then time (token_expired, token_not_yet_valid).
 */
export function validateAccessTokenClaims(
  payload: JsonObject,
  policy: ClaimsPolicy,
  nowMs: number,
): AccessTokenClaims {
  const { iss, aud, sub, sid, jti, iat, exp, nbf, roles, client_id, scope, auth_time, amr, acr } = payload;
  if (iss !== policy.issuer) invalid('The token was not issued by this server ("iss").');
  if (policy.audience === undefined ? !isAudience(aud) : !audienceIncludes(aud, policy.audience)) {
    invalid('The token is not meant for this service ("aud").');
  }
  if (policy.delegated === 'require' ? !isNonEmptyString(client_id) : client_id !== undefined) {
    invalid(
      policy.delegated === 'require'
        ? 'The token was not issued to an application ("client_id").'
        : 'The token was delegated to an application ("client_id"): it does not open a login.',
    );
  }
  if (scope !== undefined && typeof scope !== 'string') invalid('The token "scope" is not a string.');
  if (!isNonEmptyString(sub) || !isNonEmptyString(sid) || !isNonEmptyString(jti)) {
    invalid('The token lacks "sub", "sid" or "jti".');
  }
  if (!isNumericDate(iat) || !isNumericDate(exp) || exp <= iat) {
    invalid('The token lacks a valid "iat" and "exp".');
  }
  if (exp - iat > policy.maxLifetimeSeconds + policy.clockSkewSeconds) {
    invalid('The token lives longer than this issuer\'s tokens do ("exp" - "iat").');
  }
  if (nbf !== undefined && !isNumericDate(nbf)) invalid('The token "nbf" is not a NumericDate.');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every(isNonEmptyString))) {
    invalid('The token "roles" is not a list of role names.');
  }
  if (auth_time !== undefined && !isNumericDate(auth_time))
    invalid('The token "auth_time" is not a NumericDate.');
  if (amr !== undefined && !(Array.isArray(amr) && amr.every(isNonEmptyString))) {
    invalid('The token "amr" is not a list of method names.');
  }
  if (acr !== undefined && !isNonEmptyString(acr)) invalid('The token "acr" is not a string.');
  const skewMs = policy.clockSkewSeconds * 1000;
  // RFC 7519 4.1.4: the token is valid only *before* exp; the skew extends that by at most 60 s.
  if (nowMs >= exp * 1000 + skewMs) throw new JwtError('token_expired', 'The token has expired.');
  // An `iat` in the future is as suspect as an `nbf` in the future: same tolerance, same code.
  if (nowMs < Math.max(iat, nbf ?? iat) * 1000 - skewMs) {
    throw new JwtError('token_not_yet_valid', 'The token is not valid yet (check the clocks).');
  }
  return Object.freeze({
    iss: policy.issuer,
    aud: Array.isArray(aud) ? Object.freeze([...(aud as string[])]) : (aud as string),
    sub,
    sid,
    jti,
    iat,
    exp,
    ...(nbf === undefined ? {} : { nbf }),
    roles: Object.freeze(roles === undefined ? [] : [...(roles as string[])]),
    ...(client_id === undefined ? {} : { client_id: client_id as string }),
    ...(scope === undefined ? {} : { scope: scope as string }),
    ...(auth_time === undefined ? {} : { auth_time }),
    ...(amr === undefined ? {} : { amr: Object.freeze([...(amr as string[])]) }),
    ...(acr === undefined ? {} : { acr: acr as string }),
  });
}

function invalid(message: string): never {
  throw new JwtError('token_claims_invalid', message);
}

/** RFC 7519 4.1.3: `aud` is one string or an array of strings; ours must be among them. */
function audienceIncludes(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience;
  return Array.isArray(aud) && aud.every((a) => typeof a === 'string') && aud.includes(audience);
}

/** Any well-formed `aud`: one non-empty string or a non-empty array of them. */
function isAudience(aud: unknown): boolean {
  if (typeof aud === 'string') return aud.length > 0;
  return Array.isArray(aud) && aud.length > 0 && aud.every(isNonEmptyString);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Whole seconds, as Tessera issues them; fractions and absurd values are refused. */
function isNumericDate(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
