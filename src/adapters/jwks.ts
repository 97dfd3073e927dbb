import type { JwsAlgorithm } from '../core/jwt/algorithms.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';
import { JwtError } from '../core/jwt/errors.js';
import { importVerificationJwk } from '../core/jwt/jwk.js';
import type { VerificationKey } from '../core/jwt/key-objects.js';
import { type AccessTokenVerifier, createAccessTokenVerifier } from '../core/jwt/verifier.js';

/**
 * Tessera's public keys, fetched from `{tesseraUrl}/.well-known/jwks.json` and turned into
 * Tessera's own strict access-token verifier (src/core/jwt: typ at+jwt, kid required, the key's
 * bound algorithm only, fast-jwt signature, claims with the injected clock, verified-token cache).
 *
 * Freshness:
 * - the set is kept for the response's `max-age` (Tessera says 300 s; clamped to 30 s–1 h), then
 *   refetched in the background while the old set keeps verifying, so no request waits for it;
 * - if Tessera cannot be reached, the old set is used for at most one more max-age, then requests
 *   fail with 503 `tessera_unavailable` (a revoked key must not verify for ever);
 * - a token naming an unknown `kid` (a key rotated in since the last fetch) triggers a refetch,
 *   at most once a minute, so a flood of made-up kids costs Tessera one request a minute.
 */
export const UNKNOWN_KID_REFETCH_INTERVAL_MS = 60_000;
const DEFAULT_MAX_AGE_MS = 300_000;
const MIN_MAX_AGE_MS = 30_000;
const MAX_MAX_AGE_MS = 3_600_000;
/** After a failed fetch, requests that need one fail fast for this long instead of piling on. */
const FAILED_FETCH_BACKOFF_MS = 1_000;
const TIMEOUT_MS = 5_000;
const MAX_JWKS_BYTES = 256 * 1024;

export interface RemoteJwksOptions {
  tesseraUrl: string;
  issuer: string;
  audience: string;
  allowedAlgorithms: readonly JwsAlgorithm[];
  now: () => number;
  fetch: typeof fetch;
}

export class JwksUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

export class RemoteJwks {
  readonly #url: string;
  #verifier: AccessTokenVerifier | undefined;
  #fetchedAt = 0;
  #maxAgeMs = DEFAULT_MAX_AGE_MS;
  #lastUnknownKidFetch = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #fetching: Promise<void> | undefined;
  /** How many times the JWKS was fetched (tests, metrics). */
  fetches = 0;

  constructor(private readonly options: RemoteJwksOptions) {
    this.#url = new URL('/.well-known/jwks.json', options.tesseraUrl).href;
  }

  /** The token's claims; a JwtError (401) when refused; JwksUnavailableError when keys cannot be had. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const verifier = await this.#current();
    try {
      return verifier.verify(token);
    } catch (error) {
      const now = this.options.now();
      if (
        !(error instanceof JwtError && error.code === 'token_unknown_key') ||
        now - this.#lastUnknownKidFetch < UNKNOWN_KID_REFETCH_INTERVAL_MS
      ) {
        throw error;
      }
      this.#lastUnknownKidFetch = now;
      await this.refetch().catch(() => undefined);
      return (this.#verifier ?? verifier).verify(token);
    }
  }

  /** Fetches the set now (single-flight); also a warm-up before the first request. */
  refetch(): Promise<void> {
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #current(): Promise<AccessTokenVerifier> {
    const now = this.options.now();
    const age = now - this.#fetchedAt;
    if (this.#verifier && age < this.#maxAgeMs) return this.#verifier;
    const canTry = now - this.#failedAt >= FAILED_FETCH_BACKOFF_MS;
    if (this.#verifier && age < 2 * this.#maxAgeMs) {
      // Stale but usable: refresh in the background, answer with what we have.
      if (canTry) void this.refetch().catch(() => undefined);
      return this.#verifier;
    }
    if (!canTry && !this.#fetching) throw new JwksUnavailableError('Tessera public keys are unavailable.');
    await this.refetch();
    if (!this.#verifier) throw new JwksUnavailableError('Tessera public keys are unavailable.');
    return this.#verifier;
  }

  async #fetch(): Promise<void> {
    this.fetches++;
    try {
      const response = await this.options.fetch(this.#url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`GET ${this.#url} answered ${response.status}`);
      if (text.length > MAX_JWKS_BYTES) throw new Error('the JWKS is too large');
      const keys = this.#importKeys(JSON.parse(text));
      this.#verifier = createAccessTokenVerifier({
        keys,
        allowedAlgs: this.options.allowedAlgorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        now: this.options.now,
      });
      this.#fetchedAt = this.options.now();
      this.#maxAgeMs = maxAgeOf(response.headers.get('cache-control'));
    } catch (cause) {
      this.#failedAt = this.options.now();
      throw new JwksUnavailableError(`Tessera public keys could not be fetched from ${this.#url}.`, {
        cause,
      });
    }
  }

  /** Keys of an allowed algorithm; a key that is malformed or of another algorithm is skipped. */
  #importKeys(body: unknown): VerificationKey[] {
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
    const keys: VerificationKey[] = [];
    for (const jwk of list) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      try {
        const key = importVerificationJwk(jwk as Record<string, unknown>);
        if (this.options.allowedAlgorithms.includes(key.alg)) keys.push(key);
      } catch {
        // Not usable by this verifier (unknown kty, no alg, use:enc …): ignore it, as RFC 7517 5 says.
      }
    }
    if (keys.length === 0) throw new Error('the JWKS has no usable key');
    return keys;
  }
}

function maxAgeOf(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? '');
  if (!match) return DEFAULT_MAX_AGE_MS;
  return Math.min(MAX_MAX_AGE_MS, Math.max(MIN_MAX_AGE_MS, Number(match[1]) * 1000));
}
