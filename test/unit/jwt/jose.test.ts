import { randomBytes } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { publicJwks } from '../../../src/core/jwt/jwk.js';
import { generateSigningKey, openSigningKey } from '../../../src/core/jwt/keys.js';
import { createAccessTokenSigner } from '../../../src/core/jwt/signer.js';
import { manualRuntime } from '../../../src/core/runtime.js';
import { ALL_ALGS, AUDIENCE, ISSUER } from './fixtures.js';

/**
 * An independent implementation accepts our tokens: jose imports the public JWK exactly as we
 * publish it in the JWKS (or the HS256 secret) and verifies with its own parser and crypto.
 */
describe('jose verifies what Tessera signs', () => {
  it.each(ALL_ALGS)('%s', async (alg) => {
    const kek = randomBytes(32);
    const runtime = manualRuntime();
    const record = await generateSigningKey(alg, { kek, runtime, modulusLength: 2048 });
    const signing = openSigningKey(record, kek);
    const sign = createAccessTokenSigner({ key: signing, issuer: ISSUER, audience: AUDIENCE, runtime });
    const { token, claims } = sign({ sub: 'user-1', sid: 'session-1', roles: ['member'] });

    const jwk =
      alg === 'HS256'
        ? { kty: 'oct', k: signing.key.export().toString('base64url') }
        : publicJwks([record]).keys.find((k) => k.kid === record.kid);
    const key = await importJWK({ ...jwk }, alg);
    const { payload, protectedHeader } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: [alg],
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      currentDate: new Date(runtime.now()),
      clockTolerance: 0,
    });
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: record.kid });
    expect(payload).toEqual({ ...claims });
  });
});
