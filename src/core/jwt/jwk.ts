import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isJwsAlgorithm, type JwsAlgorithm } from './algorithms.js';
import { JwtKeyError } from './errors.js';
import { type VerificationKey, verificationKey } from './key-objects.js';

/** A public JWK (RFC 7517 4, RFC 7518 6, RFC 8037 2) as Tessera publishes it. */
export interface PublicJwk {
  kty: 'OKP' | 'EC' | 'RSA';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid: string;
  alg: JwsAlgorithm;
  use: 'sig';
}

/**
 * The only key-material members ever copied out. An allowlist, not a denylist of private
 * members (d, p, q, dp, dq, qi, k, oth): a member nobody thought of stays in the vault.
 */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/** The public JWK of a key, with `kid`, `alg` and `use: "sig"`; refuses a symmetric key. */
export function publicJwkOf(key: KeyObject, kid: string, alg: JwsAlgorithm): PublicJwk {
  if (key.type === 'secret') throw new JwtKeyError('key_invalid', 'A symmetric key has no public JWK.');
  const exported = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return { ...pickPublicMembers(exported), kid, alg, use: 'sig' };
}

/**
 * The JWK Set for `/.well-known/jwks.json` (RFC 7517 5): every key that may still verify a
 * token, whatever its status, and never an HS256 key. Members are re-picked from each record,
 * so a record stored with an extra member cannot leak it.
 */
export function publicJwks(
  // What it reads of a SigningKeyRecord (keys.ts, which imports this file: no type cycle).
  records: ReadonlyArray<{ kid: string; alg: JwsAlgorithm; publicJwk?: PublicJwk | undefined }>,
): { keys: PublicJwk[] } {
  const keys: PublicJwk[] = [];
  for (const record of records) {
    if (record.alg === 'HS256' || !record.publicJwk) continue;
    keys.push({ ...pickPublicMembers(record.publicJwk), kid: record.kid, alg: record.alg, use: 'sig' });
  }
  return { keys };
}

function pickPublicMembers(
  jwk: JsonWebKey | PublicJwk,
): Pick<PublicJwk, 'kty' | (typeof PUBLIC_MEMBERS)[number]> {
  const picked: Record<string, string> = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = jwk[member];
    if (typeof value === 'string') picked[member] = value;
  }
  if (picked.kty !== 'OKP' && picked.kty !== 'EC' && picked.kty !== 'RSA') {
    throw new JwtKeyError('key_unsupported', 'Only OKP, EC and RSA keys have a public JWK here.');
  }
  return picked as Pick<PublicJwk, 'kty'>;
}

/**
 * Imports a JWK someone else published (RFC 7517) as a key that verifies, honouring what the
 * JWK says about itself: `use` must be `sig` if present, `key_ops` must include `verify` if
 * present (4.2, 4.3), and the key is bound to its `alg` (or to `options.alg` when the JWK has
 * none; both present must agree). Private members are ignored: only public ones are read.
 */
export function importVerificationJwk(
  jwk: Readonly<Record<string, unknown>>,
  options: { alg?: JwsAlgorithm } = {},
): VerificationKey {
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new JwtKeyError('key_invalid', 'This JWK is not for signatures ("use" is not "sig").');
  }
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    throw new JwtKeyError('key_invalid', 'This JWK is not for verifying ("key_ops" lacks "verify").');
  }
  const alg = jwk.alg ?? options.alg;
  if (jwk.alg !== undefined && options.alg !== undefined && jwk.alg !== options.alg) {
    throw new JwtKeyError('key_invalid', 'The JWK "alg" differs from the algorithm it is imported for.');
  }
  if (!isJwsAlgorithm(alg)) throw new JwtKeyError('key_unsupported', 'The JWK has no supported "alg".');
  const kid = jwk.kid;
  if (typeof kid !== 'string') throw new JwtKeyError('key_invalid', 'The JWK has no "kid".');
  return verificationKey(kid, alg, keyObjectOf(jwk));
}

function keyObjectOf(jwk: Readonly<Record<string, unknown>>): KeyObject {
  try {
    if (jwk.kty === 'oct') {
      const k = typeof jwk.k === 'string' ? Buffer.from(jwk.k, 'base64url') : Buffer.alloc(0);
      if (k.toString('base64url') !== jwk.k) throw new Error('k is not canonical base64url');
      return createSecretKey(k);
    }
    return createPublicKey({ key: pickPublicMembers(jwk as JsonWebKey), format: 'jwk' });
  } catch (cause) {
    if (cause instanceof JwtKeyError) throw cause;
    throw new JwtKeyError('key_invalid', 'The JWK does not describe a valid key.');
  }
}
