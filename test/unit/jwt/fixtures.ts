import { constants, createHmac, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import type { SigningKey, VerificationKey } from '../../../src/core/jwt/key-objects.js';
import { verificationKeyFromSigningKey } from '../../../src/core/jwt/key-objects.js';
import { generateSigningKey, openSigningKey } from '../../../src/core/jwt/keys.js';
import { createAccessTokenSigner } from '../../../src/core/jwt/signer.js';
import { createAccessTokenVerifier } from '../../../src/core/jwt/verifier.js';
import { manualRuntime } from '../../../src/core/runtime.js';

export const ALL_ALGS: readonly JwsAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];
export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'https://api.example.test';

export const b64u = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export interface KeyPair {
  signing: SigningKey;
  verification: VerificationKey;
}

/** One key per algorithm, generated through the real path (sealed, then opened). RSA at 2048 for speed. */
export async function keysForAllAlgs(kek = randomBytes(32)): Promise<Record<JwsAlgorithm, KeyPair>> {
  const runtime = manualRuntime();
  const out = {} as Record<JwsAlgorithm, KeyPair>;
  for (const alg of ALL_ALGS) {
    const record = await generateSigningKey(alg, { kek, runtime, modulusLength: 2048 });
    const signing = openSigningKey(record, kek);
    out[alg] = { signing, verification: verificationKeyFromSigningKey(signing) };
  }
  return out;
}

/** A raw JWS signature over `input` made with node:crypto, independent of the code under test. */
export function rawSignature(alg: JwsAlgorithm, key: KeyObject | Buffer, input: string): Buffer {
  const data = Buffer.from(input, 'ascii');
  switch (alg) {
    case 'HS256':
      return createHmac('sha256', key).update(data).digest();
    case 'EdDSA':
      return sign(null, data, key as KeyObject);
    case 'ES256':
      return sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PADDING });
  }
}

/**
 * Builds any compact JWS an attacker could: header and payload as objects or as raw JSON text
 * (for duplicate members), signed by `signWith` or carrying `signature` verbatim.
 */
export function forge(
  header: object | string,
  payload: object | string,
  signWith?: { alg: JwsAlgorithm; key: KeyObject | Buffer },
  signature?: Buffer,
): string {
  const encode = (part: object | string) => b64u(typeof part === 'string' ? part : JSON.stringify(part));
  const input = `${encode(header)}.${encode(payload)}`;
  const sig = signWith ? rawSignature(signWith.alg, signWith.key, input) : (signature ?? Buffer.alloc(0));
  return `${input}.${b64u(sig)}`;
}

/** Signer and verifier over one keyring, with a shared manual clock. */
export function accessTokenSetup(pair: KeyPair, extraKeys: VerificationKey[] = [], allowedAlgs = ALL_ALGS) {
  const runtime = manualRuntime();
  const sign = createAccessTokenSigner({ key: pair.signing, issuer: ISSUER, audience: AUDIENCE, runtime });
  const verifier = createAccessTokenVerifier({
    keys: [pair.verification, ...extraKeys],
    allowedAlgs,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: runtime.now,
  });
  return { runtime, sign, verifier };
}

/** Claims as Tessera issues them, at the runtime's current time. */
export function claimsAt(nowMs: number, overrides: Record<string, unknown> = {}) {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: 'jti-1',
    iat,
    exp: iat + 300,
    roles: ['member'],
    ...overrides,
  };
}
