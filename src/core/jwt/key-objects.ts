import { createPublicKey, type KeyObject } from 'node:crypto';
import { assertKeyFitsAlgorithm, type JwsAlgorithm } from './algorithms.js';
import { isKid } from './compact.js';
import { JwtKeyError } from './errors.js';

/**
 * Keys in memory: a parsed node:crypto KeyObject bound to one `kid` and one algorithm.
 * Parsed once when the keyring is built, never per token.
 */

/** A key ready to sign: the KeyObject holds the private key or the HMAC secret. */
export interface SigningKey {
  kid: string;
  alg: JwsAlgorithm;
  key: KeyObject;
}

/** A key ready to verify: a public KeyObject, or the HMAC secret for HS256. */
export interface VerificationKey {
  kid: string;
  alg: JwsAlgorithm;
  key: KeyObject;
}

/** The one way to build a SigningKey: refuses a public key and any key of the wrong kind for `alg`. */
export function signingKey(kid: string, alg: JwsAlgorithm, key: KeyObject): SigningKey {
  assertKid(kid);
  if (key.type === 'public') throw new JwtKeyError('key_invalid', 'A signing key cannot be a public key.');
  assertKeyFitsAlgorithm(alg, key);
  return { kid, alg, key };
}

/**
 * The one way to build a VerificationKey: refuses a private key (verifiers should never hold
 * one) and any key of the wrong kind for `alg`, which is what makes "HS256 signed with the RSA
 * public key as the secret" impossible to set up, even by mistake.
 */
export function verificationKey(kid: string, alg: JwsAlgorithm, key: KeyObject): VerificationKey {
  assertKid(kid);
  if (key.type === 'private') throw new JwtKeyError('key_invalid', 'A verification key must not be private.');
  assertKeyFitsAlgorithm(alg, key);
  return { kid, alg, key };
}

/** The key that verifies what `signing` signs (the same secret, for HS256). */
export function verificationKeyFromSigningKey(signing: SigningKey): VerificationKey {
  const key = signing.key.type === 'private' ? createPublicKey(signing.key) : signing.key;
  return verificationKey(signing.kid, signing.alg, key);
}

function assertKid(kid: string): void {
  if (!isKid(kid)) throw new JwtKeyError('key_invalid', 'A kid must be 1-64 base64url characters.');
}
