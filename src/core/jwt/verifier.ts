import { createVerifier } from 'fast-jwt';
import { assertAllowlist, type JwsAlgorithm } from './algorithms.js';
import { VerifiedTokenCache } from './cache.js';
import {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  type ClaimsPolicy,
  MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  validateAccessTokenClaims,
} from './claims.js';
import { type JoseHeader, parseJwt } from './compact.js';
import { JwtError, JwtKeyError } from './errors.js';
import { type VerificationKey, verificationKey } from './key-objects.js';
import { assertSignatureShape } from './signature.js';

/**
 * The checks between parsing and the signature (exported for the tests' generic-JWS reference
 * verifier, which the Wycheproof vectors run against): the key is the one
 * the header names, the header's `alg` is the one algorithm that key is bound to (so an HS256
 * token can never be checked with an RSA or EC public key as its HMAC secret), and the
 * signature has the exact form that algorithm produces.
 */
export function assertKeyFits(header: JoseHeader, key: VerificationKey, signature: Buffer): void {
  if (header.kid !== undefined && header.kid !== key.kid) {
    throw new JwtError('token_unknown_key', 'The token names a different key.');
  }
  if (header.alg !== key.alg) {
    throw new JwtError('token_alg_not_allowed', `The token's key is bound to ${key.alg}, not ${header.alg}.`);
  }
  assertSignatureShape(key.alg, key.key, signature);
}

export interface AccessTokenVerifierOptions {
  /** The keyring. Fixed for the verifier's life: after a rotation, build a new verifier (and cache). */
  keys: readonly VerificationKey[];
  /** Configuration, never the token's header (RFC 8725 3.1). Every key's alg must be in it. */
  allowedAlgs: readonly JwsAlgorithm[];
  issuer: string;
  /** undefined only with `delegated: 'require'`: any `aud`, checked by the caller. */
  audience: string | undefined;
  /** See ClaimsPolicy: first-party verifiers refuse delegated (OAuth) tokens. */
  delegated?: 'refuse' | 'require';
  /** The clock, in milliseconds since the Unix epoch (pass `runtime.now`). */
  now: () => number;
  /** Default and maximum 60 s. */
  clockSkewSeconds?: number;
  /**
   * The issuer's access-token lifetime: tokens with a longer `exp - iat` (beyond the skew) are
   * refused. Default: the longest lifetime Tessera ever issues (1 hour).
   */
  maxLifetimeSeconds?: number;
  /** Verified tokens remembered; 0 turns the cache off. */
  cacheSize?: number;
}

export interface AccessTokenVerifier {
  /** The token's claims, or a JwtError with a stable code. */
  verify(token: string): AccessTokenClaims;
  readonly cache: VerifiedTokenCache<AccessTokenClaims>;
}

/**
 * 10k entries of ~0.5-1 KiB tokens plus claims is ~10-20 MiB at most, and covers every user
 * active within one 5-minute token lifetime on a mid-sized deployment.
 */
const DEFAULT_CACHE_SIZE = 10_000;

/**
 * Builds the access-token verifier (RFC 9068 4): cache, strict parse (typ at+jwt, kid
 * required), key by kid, key binding and signature form (assertKeyFits), the signature by
 * fast-jwt, then the claims with the injected clock.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  assertAllowlist(options.allowedAlgs);
  const clockSkewSeconds = options.clockSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  if (!(clockSkewSeconds >= 0 && clockSkewSeconds <= MAX_CLOCK_SKEW_SECONDS)) {
    throw new RangeError(`The clock skew must be between 0 and ${MAX_CLOCK_SKEW_SECONDS} seconds.`);
  }
  if (options.audience === undefined && options.delegated !== 'require') {
    throw new TypeError('A verifier without an audience is for delegated tokens only.');
  }
  const policy: ClaimsPolicy = {
    issuer: options.issuer,
    audience: options.audience,
    clockSkewSeconds,
    maxLifetimeSeconds: options.maxLifetimeSeconds ?? MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
    delegated: options.delegated ?? 'refuse',
  };
  const keyring = new Map<string, { key: VerificationKey; checkSignature: (token: string) => unknown }>();
  for (const given of options.keys) {
    // Rebuilt through verificationKey, so a hand-made {alg: 'HS256', key: <RSA public key>} fails here.
    const key = verificationKey(given.kid, given.alg, given.key);
    if (keyring.has(key.kid)) throw new JwtKeyError('key_invalid', `Two keys share the kid ${key.kid}.`);
    if (!options.allowedAlgs.includes(key.alg)) {
      throw new JwtKeyError(
        'key_unsupported',
        `Key ${key.kid} is bound to ${key.alg}, which the allowlist does not allow.`,
      );
    }
    keyring.set(key.kid, { key, checkSignature: fastJwtSignatureCheck(key) });
  }
  const cache = new VerifiedTokenCache<AccessTokenClaims>(options.cacheSize ?? DEFAULT_CACHE_SIZE);
  const parseOptions = { allowedAlgs: options.allowedAlgs, typ: ACCESS_TOKEN_TYP, requireKid: true };

  function verify(token: string): AccessTokenClaims {
    const now = options.now();
    const cached = cache.get(token, now);
    if (cached) return cached;
    const jwt = parseJwt(token, parseOptions);
    const entry = keyring.get(jwt.header.kid as string);
    if (!entry) throw new JwtError('token_unknown_key', 'The token names a key this server does not know.');
    assertKeyFits(jwt.header, entry.key, jwt.signature);
    entry.checkSignature(token);
    const claims = validateAccessTokenClaims(jwt.payload, policy, now);
    const validFrom = (Math.max(claims.iat, claims.nbf ?? claims.iat) - clockSkewSeconds) * 1000;
    // Cached up to exp itself, not exp + skew: a cache entry never outlives the token's exp.
    cache.set(token, claims, validFrom, claims.exp * 1000, now);
    return claims;
  }

  return { verify, cache };
}

/**
 * One fast-jwt verifier per key, built once, used for the signature only. Claims, time and
 * caching are done above instead, because fast-jwt's clock is either a number fixed when the
 * verifier is built (`clockTimestamp`) or Date.now(): it cannot take an injected clock, and its
 * cache would expire entries by the wall clock. fast-jwt 6 takes keys as PEM or a Buffer
 * secret, not KeyObjects (it throws "must be a string or a buffer"), so we export them once.
 */
function fastJwtSignatureCheck(key: VerificationKey): (token: string) => unknown {
  const material =
    key.key.type === 'secret' ? key.key.export() : key.key.export({ format: 'pem', type: 'spki' }).toString();
  const check = createVerifier({
    key: material,
    algorithms: [key.alg],
    cache: false,
    ignoreExpiration: true,
    ignoreNotBefore: true,
  });
  return (token) => {
    try {
      return check(token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'FAST_JWT_INVALID_SIGNATURE' || code === 'FAST_JWT_VERIFY_ERROR') {
        throw new JwtError('token_invalid_signature', 'The token signature is invalid.');
      }
      // Our parser already passed this token; fast-jwt disagreeing means a parser differential.
      throw new JwtError('token_malformed', 'The token is malformed.');
    }
  };
}
