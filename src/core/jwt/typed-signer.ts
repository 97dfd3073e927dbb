import { createSigner } from 'fast-jwt';
import type { SigningKey } from './key-objects.js';

/**
 * A signer for JWTs other than access tokens (Security Event Tokens, RFC 8417; and whatever
 * else the keyring must sign, e.g. OpenID logout tokens): header {alg, typ, kid}, the payload
 * exactly as given (the caller sets iss, iat, jti …), signed with the keyring's active key.
 * fast-jwt adds no claim of its own (no `iat`: noTimestamp).
 */
export function createTypedJwtSigner(
  key: SigningKey,
  typ: string,
): (payload: Record<string, unknown>) => string {
  const material =
    key.key.type === 'secret'
      ? key.key.export()
      : key.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const sign = createSigner({
    key: material,
    algorithm: key.alg,
    kid: key.kid,
    noTimestamp: true,
    header: { alg: key.alg, typ, kid: key.kid },
  });
  return (payload) => sign({ ...payload });
}
