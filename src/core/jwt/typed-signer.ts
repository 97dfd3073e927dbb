import { createSigner } from 'fast-jwt';
import type { SigningKey } from './key-objects.js';

/**
 * A signer for JWTs other than access tokens (Security Event Tokens, RFC 8417; OpenID ID and
 * logout tokens): header {alg, typ, kid}, the payload exactly as given (the caller sets iss,
 * iat, jti …), signed with the keyring's active key. fast-jwt adds no claim of its own: with
 * `noTimestamp` it would also DROP a given `iat` (it overwrites the claim), so a payload that
 * has its own `iat` goes through a signer that keeps it (fast-jwt then uses the given value,
 * never the wall clock), and one without goes through a `noTimestamp` signer.
 */
export function createTypedJwtSigner(
  key: SigningKey,
  typ: string,
): (payload: Record<string, unknown>) => string {
  const material =
    key.key.type === 'secret'
      ? key.key.export()
      : key.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const options = {
    key: material,
    algorithm: key.alg,
    kid: key.kid,
    header: { alg: key.alg, typ, kid: key.kid },
  };
  const withIat = createSigner(options);
  const withoutIat = createSigner({ ...options, noTimestamp: true });
  return (payload) =>
    Number.isSafeInteger(payload.iat) ? withIat({ ...payload }) : withoutIat({ ...payload });
}
