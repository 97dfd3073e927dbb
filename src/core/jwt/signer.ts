import { createSigner } from 'fast-jwt';
import type { Runtime } from '../runtime.js';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims, MAX_ACCESS_TOKEN_LIFETIME_SECONDS } from './claims.js';
import type { SigningKey } from './key-objects.js';

export interface AccessTokenSignerOptions {
  key: SigningKey;
  issuer: string;
  audience: string;
  /** Clock (for iat/exp) and randomness (for jti). */
  runtime: Runtime;
  /** Seconds; default 300. */
  lifetimeSeconds?: number;
}

/** Who the token is for: the rest of the claims are the signer's to set. */
export interface AccessTokenSubject {
  sub: string;
  sid: string;
  roles?: readonly string[];
  /**
   * Milliseconds: the token must count as issued strictly after this instant. Hybrid mode
   * revokes "every token of this user issued at or before T"; `iat` has whole seconds, so a
   * token issued later in the same second as T takes the next second as its iat (less than a
   * second ahead, well within the verifier's skew).
   */
  notBefore?: number;
  /**
   * OAuth (RFC 9068): a token a user (or a client for itself) delegated to an application.
   * It carries `client_id` and `scope`, its `aud` is the resource, and it has no roles.
   */
  delegation?: { clientId: string; scope: string; audience: string };
  /** The login's proof (core/auth-context.ts): auth_time (ms here, seconds in the token), amr, acr. */
  authContext?: { authTime: number; amr: readonly string[]; acr: string };
}

export interface IssuedAccessToken {
  token: string;
  claims: AccessTokenClaims;
}

export type AccessTokenSigner = (subject: AccessTokenSubject) => IssuedAccessToken;

/**
 * In `jwt` mode an access token cannot be revoked before it expires, so its lifetime is the
 * revocation delay: 5 minutes by default, and never more than an hour whatever the config says.
 */
const DEFAULT_LIFETIME_SECONDS = 300;
const MAX_LIFETIME_SECONDS = MAX_ACCESS_TOKEN_LIFETIME_SECONDS;
/** 128 random bits: a jti that never repeats, so it can key a deny-list or a replay check. */
const JTI_BYTES = 16;

/**
 * Builds the access-token signer (RFC 9068): header {alg, typ: "at+jwt", kid}, claims iss,
 * aud, sub, sid, jti, iat, exp, roles and nothing else. fast-jwt does the encoding and the
 * signature (ES256 as raw R || S); iat and exp are computed here from the injected clock and
 * passed in, so fast-jwt never reads the wall clock.
 */
export function createAccessTokenSigner(options: AccessTokenSignerOptions): AccessTokenSigner {
  const lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
  if (!Number.isSafeInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_SECONDS) {
    throw new RangeError(`The access-token lifetime must be 1-${MAX_LIFETIME_SECONDS} whole seconds.`);
  }
  const { kid, alg, key } = options.key;
  // fast-jwt 6 takes PEM or a Buffer secret, not a KeyObject; exported once, here.
  const material =
    key.type === 'secret' ? key.export() : key.export({ format: 'pem', type: 'pkcs8' }).toString();
  // `typ` goes through `header` (fast-jwt's typings lack its `typ` option); the header stays {alg, typ, kid}.
  const sign = createSigner({
    key: material,
    algorithm: alg,
    kid,
    header: { alg, typ: ACCESS_TOKEN_TYP, kid },
  });

  return (subject) => {
    if (!isNonEmptyString(subject.sub) || !isNonEmptyString(subject.sid)) {
      throw new TypeError('An access token needs a non-empty sub and sid.');
    }
    const roles = [...(subject.roles ?? [])];
    if (!roles.every(isNonEmptyString)) throw new TypeError('Roles must be non-empty strings.');
    const { delegation } = subject;
    if (delegation && (!isNonEmptyString(delegation.clientId) || !isNonEmptyString(delegation.audience))) {
      throw new TypeError('A delegated access token needs a client_id and an audience.');
    }
    if (delegation && roles.length > 0) throw new TypeError('A delegated access token carries no roles.');
    const now = Math.floor(options.runtime.now() / 1000);
    const iat = subject.notBefore ? Math.max(now, Math.floor(subject.notBefore / 1000) + 1) : now;
    const claims: AccessTokenClaims = {
      iss: options.issuer,
      aud: delegation ? delegation.audience : options.audience,
      sub: subject.sub,
      sid: subject.sid,
      jti: options.runtime.randomBytes(JTI_BYTES).toString('base64url'),
      iat,
      exp: iat + lifetime,
      roles,
      ...(delegation && { client_id: delegation.clientId, scope: delegation.scope }),
      ...(subject.authContext && {
        auth_time: Math.floor(subject.authContext.authTime / 1000),
        amr: [...subject.authContext.amr],
        acr: subject.authContext.acr,
      }),
    };
    // A delegated token's payload has no `roles` claim at all (its authority is its scope).
    const { roles: _roles, ...payload } = claims;
    return {
      token: sign(delegation ? payload : { ...claims }),
      claims: Object.freeze({ ...claims, roles: Object.freeze(roles) }),
    };
  };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
