/** Pure JWT building blocks for `jwt` and `hybrid` modes: no HTTP, no storage. */
export { DEFAULT_ALGORITHM, JWS_ALGORITHMS, type JwsAlgorithm } from './algorithms.js';
export { VerifiedTokenCache } from './cache.js';
export { ACCESS_TOKEN_TYP, type AccessTokenClaims, MAX_CLOCK_SKEW_SECONDS } from './claims.js';
export { type JoseHeader, type ParsedJws, type ParseOptions, parseJws, parseJwt } from './compact.js';
export { JwtError, type JwtErrorCode, JwtKeyError } from './errors.js';
export { importVerificationJwk, type PublicJwk, publicJwkOf, publicJwks } from './jwk.js';
export {
  type SigningKey,
  signingKey,
  type VerificationKey,
  verificationKey,
  verificationKeyFromSigningKey,
} from './key-objects.js';
export {
  type GenerateOptions,
  generateSigningKey,
  type KeyStatus,
  openSigningKey,
  type SigningKeyRecord,
  verificationKeyOf,
} from './keys.js';
export { parseKeyEncryptionKey } from './seal.js';
export {
  type AccessTokenSigner,
  type AccessTokenSignerOptions,
  type AccessTokenSubject,
  createAccessTokenSigner,
  type IssuedAccessToken,
} from './signer.js';
export {
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type VerifyJwsOptions,
  verifyJws,
} from './verifier.js';
