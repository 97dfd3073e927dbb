import type { KeyObject } from 'node:crypto';
import { JwtKeyError } from './errors.js';

/**
 * The JWS algorithms (RFC 7518, RFC 8037) Tessera signs and verifies. Everything else,
 * `none` first of all, is refused before any crypto runs. The allowlist in force is always
 * configuration, never the token's own header (RFC 8725 3.1).
 */
export const JWS_ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'HS256'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** Ed25519: small keys, fast deterministic signatures, no nonce to get wrong. */
export const DEFAULT_ALGORITHM: JwsAlgorithm = 'EdDSA';

/** RFC 8725 3.5 / NIST SP 800-57: below 2048 bits RSA is not acceptable at all. */
export const MIN_RSA_BITS = 2048;

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits). */
export const MIN_HMAC_KEY_BYTES = 32;

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(value);
}

/** Validates a configured allowlist once, at start, so a typo cannot silently allow nothing or `none`. */
export function assertAllowlist(algs: readonly string[]): asserts algs is readonly JwsAlgorithm[] {
  if (algs.length === 0) throw new JwtKeyError('key_unsupported', 'The JWS algorithm allowlist is empty.');
  for (const alg of algs) {
    if (!isJwsAlgorithm(alg)) {
      throw new JwtKeyError('key_unsupported', `"${alg}" is not a JWS algorithm Tessera supports.`);
    }
  }
}

/**
 * Checks that a KeyObject is of the one kind its algorithm needs. This is what defeats
 * algorithm confusion: an RSA or EC public key can never be labelled HS256 and used as an
 * HMAC secret, because HS256 demands a secret KeyObject of at least 256 bits.
 */
export function assertKeyFitsAlgorithm(alg: JwsAlgorithm, key: KeyObject): void {
  const fail = (why: string) => {
    throw new JwtKeyError('key_invalid', `This key cannot be used with ${alg}: ${why}.`);
  };
  switch (alg) {
    case 'HS256':
      if (key.type !== 'secret') fail('HS256 needs a symmetric secret');
      if ((key.symmetricKeySize ?? 0) < MIN_HMAC_KEY_BYTES) fail('the secret is shorter than 256 bits');
      return;
    case 'EdDSA':
      if (key.type === 'secret' || key.asymmetricKeyType !== 'ed25519') fail('EdDSA here means Ed25519');
      return;
    case 'ES256':
      if (key.type === 'secret' || key.asymmetricKeyType !== 'ec') fail('ES256 needs an EC key');
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') fail('ES256 needs the P-256 curve');
      return;
    case 'RS256':
      if (key.type === 'secret' || key.asymmetricKeyType !== 'rsa')
        fail('RS256 needs an RSA (not RSA-PSS) key');
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
        fail('the modulus is under 2048 bits');
      return;
  }
}
