import { constants, createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { assertKeyFitsAlgorithm, type JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import { type ParsedJws, parseJws } from '../../../src/core/jwt/compact.js';
import { JwtError } from '../../../src/core/jwt/errors.js';
import type { VerificationKey } from '../../../src/core/jwt/key-objects.js';
import { assertKeyFits } from '../../../src/core/jwt/verifier.js';

/**
 * A generic-JWS verifier for tests: Tessera's strict parse and key binding (the same functions
 * the access-token verifier runs), then the signature with node:crypto instead of fast-jwt.
 * fast-jwt decodes every payload as a JSON object, so it cannot check a generic JWS (the
 * Wycheproof vectors sign "foo"); this is how those vectors, and the comparison of the two
 * signature paths, reach the parser and the key checks. Tessera itself never verifies this way.
 */
export interface VerifyJwsOptions {
  allowedAlgs: readonly JwsAlgorithm[];
  /** Expected `typ`; when undefined, `typ` is not checked (generic JWS). */
  typ?: string;
}

export function verifyJws(compact: string, key: VerificationKey, options: VerifyJwsOptions): ParsedJws {
  assertKeyFitsAlgorithm(key.alg, key.key); // the key may be hand-made, not from verificationKey
  const jws = parseJws(compact, options);
  assertKeyFits(jws.header, key, jws.signature);
  if (!signatureMatches(key.alg, key.key, jws.signingInput, jws.signature)) {
    throw new JwtError('token_invalid_signature', 'The token signature is invalid.');
  }
  return jws;
}

/**
 * Verifies a JWS signature with node:crypto alone. Expects assertKeyFits (the signature's
 * shape) to have passed.
 */
function signatureMatches(
  alg: JwsAlgorithm,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
): boolean {
  const input = Buffer.from(signingInput, 'ascii');
  try {
    switch (alg) {
      case 'HS256':
        // Constant-time comparison, so timing reveals nothing about the expected MAC.
        return timingSafeEqual(createHmac('sha256', key).update(input).digest(), signature);
      case 'EdDSA':
        return verify(null, input, key, signature);
      case 'ES256':
        return verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'RS256':
        return verify('sha256', input, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
  } catch {
    // OpenSSL throws on some malformed inputs; for a verifier that simply means "no".
    return false;
  }
}
