import { AuthError } from '../errors.js';

/**
 * Every way a presented token can fail, as a stable code (part of the HTTP contract, in the
 * registry of core/errors.ts with status 401).
 * Few and coarse on purpose: a client can act on "expired" (refresh) versus anything else
 * (log in again); finer detail goes in the message, never in a new code.
 */
export type JwtErrorCode =
  /** Not a compact JWS we accept: shape, base64url, JSON, duplicate member, kid syntax, size. */
  | 'token_malformed'
  /** `alg` is `none`, not in the configured allowlist, or not the algorithm its key is bound to. */
  | 'token_alg_not_allowed'
  /** A header member we never honour is present (`crit`, `jku`, `x5u`, `jwk`, `x5c`, `b64`). */
  | 'token_header_forbidden'
  /** `typ` is missing or is not the expected media type (e.g. a refresh or ID token). */
  | 'token_typ_invalid'
  /** No key with this `kid` in the keyring (never seen, or rotated out). */
  | 'token_unknown_key'
  | 'token_invalid_signature'
  | 'token_expired'
  /** `nbf` or `iat` lies in the future by more than the allowed clock skew. */
  | 'token_not_yet_valid'
  /** A required claim is missing or of the wrong type, or `iss`/`aud` is not ours. */
  | 'token_claims_invalid';

/** A presented token was refused; 401 because the cure is always a new token. */
export class JwtError extends AuthError {
  declare readonly code: JwtErrorCode;

  constructor(code: JwtErrorCode, message: string) {
    super(code, message);
    this.name = 'JwtError';
  }
}

/**
 * A key the server holds or was given is unusable (wrong KEK, tampered record, weak or
 * mismatched key). This is an operator's problem, not a client's, so it is not an AuthError
 * and must surface as a failed start or a 500, never as a 401 that hides it.
 */
export class JwtKeyError extends Error {
  constructor(
    readonly code: 'key_invalid' | 'key_unsupported' | 'key_decrypt_failed',
    message: string,
  ) {
    super(message);
    this.name = 'JwtKeyError';
  }
}
