import type { KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from './algorithms.js';
import { JwtError } from './errors.js';

/** Order of the P-256 group (FIPS 186-4 D.1.2.3): ECDSA's r and s must lie in [1, n-1]. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Checks a signature's form before any crypto sees it: its exact length for the algorithm
 * (RFC 7518 3.2, 3.3, 3.4; RFC 8037 3.1), and for ES256 that r and s are in range. OpenSSL
 * checks the range too; doing it here as well means a zero signature fails by construction,
 * not by trusting one library (Java's CVE-2022-21449 accepted r = s = 0).
 */
export function assertSignatureShape(alg: JwsAlgorithm, key: KeyObject, signature: Buffer): void {
  if (signature.length !== expectedLength(alg, key)) {
    throw new JwtError('token_invalid_signature', `The signature has the wrong length for ${alg}.`);
  }
  if (alg === 'ES256') {
    // JOSE ECDSA signatures are raw R || S, 32 bytes each (RFC 7518 3.4), never DER.
    const r = BigInt(`0x${signature.subarray(0, 32).toString('hex')}`);
    const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
    if (r === 0n || s === 0n || r >= P256_ORDER || s >= P256_ORDER) {
      throw new JwtError('token_invalid_signature', 'The ES256 signature is out of range.');
    }
  }
}

function expectedLength(alg: JwsAlgorithm, key: KeyObject): number {
  switch (alg) {
    case 'HS256':
      return 32;
    case 'EdDSA':
    case 'ES256':
      return 64;
    case 'RS256':
      // RFC 8017 8.2.2: an RSASSA-PKCS1-v1_5 signature is exactly as long as the modulus.
      return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  }
}
