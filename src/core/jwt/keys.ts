import { createPrivateKey, createSecretKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Runtime } from '../runtime.js';
import { isJwsAlgorithm, type JwsAlgorithm, MIN_RSA_BITS } from './algorithms.js';
import { JwtKeyError } from './errors.js';
import { importVerificationJwk, type PublicJwk, publicJwkOf } from './jwk.js';
import {
  type SigningKey,
  signingKey,
  type VerificationKey,
  verificationKeyFromSigningKey,
} from './key-objects.js';
import { open, seal } from './seal.js';

/**
 * Lifecycle of a signing key. `next` is published in the JWKS before it signs, so verifiers
 * that cache the JWKS know it by the time its first token arrives; `active` signs; `retired`
 * only verifies, until the last token it signed has expired, then it can be deleted.
 */
export type KeyStatus = 'next' | 'active' | 'retired';

/** A signing key as stored: everything public in the clear, the private part sealed under the KEK. */
export interface SigningKeyRecord {
  kid: string;
  /** Each key is bound to exactly one algorithm, for its whole life (RFC 8725 3.1). */
  alg: JwsAlgorithm;
  status: KeyStatus;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** Public members only; absent for HS256, whose key is entirely secret. */
  publicJwk?: PublicJwk;
  /** PKCS#8 DER (asymmetric) or the raw secret (HS256), sealed by seal.ts. */
  privateKeyEncrypted: string;
}

export interface GenerateOptions {
  kek: Buffer;
  runtime: Runtime;
  status?: KeyStatus;
  /** RSA only: 3072 by default (NIST SP 800-57: 128-bit security to 2030 and beyond). */
  modulusLength?: number;
}

/** 128 random bits, base64url: unguessable, and within the parser's kid shape (22 characters). */
const KID_BYTES = 16;
/** RFC 7518 3.2: an HS256 key of 256 random bits, the hash output size. */
const HMAC_KEY_BYTES = 32;
const DEFAULT_RSA_BITS = 3072;

// Asynchronous so a 3072-bit RSA generation (up to a second) never blocks the event loop.
const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Generates a new key bound to `alg` (configuration picks it; DEFAULT_ALGORITHM is EdDSA) and
 * returns its record, the private part sealed under the KEK.
 */
export async function generateSigningKey(
  alg: JwsAlgorithm,
  options: GenerateOptions,
): Promise<SigningKeyRecord> {
  if (!isJwsAlgorithm(alg)) throw new JwtKeyError('key_unsupported', `"${String(alg)}" is not supported.`);
  const kid = options.runtime.randomBytes(KID_BYTES).toString('base64url');
  let material: Buffer;
  let publicKey: KeyObject | undefined;
  if (alg === 'HS256') {
    material = options.runtime.randomBytes(HMAC_KEY_BYTES);
  } else {
    const pair = await generatePair(alg, options.modulusLength ?? DEFAULT_RSA_BITS);
    material = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    publicKey = pair.publicKey;
  }
  const privateKeyEncrypted = seal(material, options.kek, associatedData(kid, alg), options.runtime);
  material.fill(0); // no plaintext key left behind in the JS heap once sealed
  return {
    kid,
    alg,
    status: options.status ?? 'active',
    createdAt: options.runtime.now(),
    ...(publicKey ? { publicJwk: publicJwkOf(publicKey, kid, alg) } : {}),
    privateKeyEncrypted,
  };
}

function generatePair(alg: Exclude<JwsAlgorithm, 'HS256'>, modulusLength: number) {
  switch (alg) {
    case 'EdDSA':
      return generateKeyPairAsync('ed25519');
    case 'ES256':
      return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    case 'RS256':
      if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_BITS) {
        throw new JwtKeyError('key_invalid', `RSA keys must be at least ${MIN_RSA_BITS} bits.`);
      }
      return generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
  }
}

/** Opens a record's sealed private part into a key that can sign. */
export function openSigningKey(record: SigningKeyRecord, kek: Buffer): SigningKey {
  const material = open(record.privateKeyEncrypted, kek, associatedData(record.kid, record.alg));
  try {
    const key =
      record.alg === 'HS256'
        ? createSecretKey(material)
        : createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
    return signingKey(record.kid, record.alg, key);
  } finally {
    material.fill(0); // the KeyObject holds its own copy; leave no plaintext key in the JS heap
  }
}

/**
 * The key that verifies a record's tokens. Asymmetric keys come from the public JWK alone; an
 * HS256 key is its secret, so only a holder of the KEK can verify (single-service only).
 */
export function verificationKeyOf(record: SigningKeyRecord, kek?: Buffer): VerificationKey {
  if (record.alg === 'HS256') {
    if (!kek)
      throw new JwtKeyError('key_invalid', 'Verifying HS256 tokens needs the KEK to open the secret.');
    return verificationKeyFromSigningKey(openSigningKey(record, kek));
  }
  if (!record.publicJwk) throw new JwtKeyError('key_invalid', `Key ${record.kid} has no public JWK.`);
  // Through the same import as a foreign JWK, so its alg, use and kid must agree with the record.
  return importVerificationJwk({ ...record.publicJwk, kid: record.kid }, { alg: record.alg });
}

/** Sealing binds kid and alg: a ciphertext moved to another record, or relabelled, will not open. */
function associatedData(kid: string, alg: JwsAlgorithm): string {
  // The kid alphabet has no '.', so "<kid>.<alg>" is unambiguous.
  return `${kid}.${alg}`;
}
