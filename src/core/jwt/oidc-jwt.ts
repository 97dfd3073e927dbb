import { verify as cryptoVerify } from 'node:crypto';
import type { JwsAlgorithm } from './algorithms.js';
import { parseJwt } from './compact.js';
import { JwtError } from './errors.js';
import type { JsonObject } from './json.js';
import type { VerificationKey } from './key-objects.js';
import { assertKeyFits } from './verifier.js';

/**
 * The JWTs of OpenID Connect that are not access tokens: ID tokens (`typ: JWT`) and
 * back-channel logout tokens (`typ: logout+jwt`, Back-Channel Logout 1.0 2.4), signed by
 * Keyring.signJwt (jwt/typed-signer.ts); the claims are core/oauth/oidc-identity.ts's.
 */
export type OidcJwtType = 'JWT' | 'logout+jwt';

/**
 * The payload of a JWT this server signed with one of `keys`, checking the signature only
 * (strict parse, kid required, key binding, signature form): the caller checks the claims.
 * Used for `id_token_hint`, which OpenID Connect lets a client send after the token expired.
 */
export function verifyOwnJwt(
  token: string,
  keys: readonly VerificationKey[],
  allowedAlgs: readonly JwsAlgorithm[],
  typ: OidcJwtType,
): JsonObject {
  const jwt = parseJwt(token, { allowedAlgs, typ, requireKid: true });
  const key = keys.find((k) => k.kid === jwt.header.kid);
  if (!key) throw new JwtError('token_unknown_key', 'The token names a key this server does not know.');
  assertKeyFits(jwt.header, key, jwt.signature);
  const data = Buffer.from(jwt.signingInput, 'ascii');
  const ok =
    key.alg === 'EdDSA'
      ? cryptoVerify(null, data, key.key, jwt.signature)
      : key.alg === 'ES256'
        ? cryptoVerify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, jwt.signature)
        : key.alg === 'RS256'
          ? cryptoVerify('sha256', data, key.key, jwt.signature)
          : false; // HS256: ID tokens are never signed with the server's secret (see oidc-clients.ts)
  if (!ok) throw new JwtError('token_invalid_signature', 'The token signature is invalid.');
  return jwt.payload;
}
