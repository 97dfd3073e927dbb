import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicJwk } from '../../src/core/jwt/jwk.js';
import { openSigningKey } from '../../src/core/jwt/keys.js';
import { parseKeyEncryptionKey } from '../../src/core/jwt/seal.js';
import { createAccessTokenSigner } from '../../src/core/jwt/signer.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * The verifier caps `exp - iat` at the configured access-token TTL (plus the clock skew): a
 * leaked signing key mints tokens worth no more than a stolen one, in every token mode.
 */

const KEK = 'ab'.repeat(32);

for (const mode of ['jwt', 'hybrid'] as const) {
  describe(`${mode} mode: access-token lifetime cap`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTessera({ env: { TESSERA_MODE: mode, TESSERA_KEY_ENCRYPTION_KEY: KEK } });
    });
    afterAll(() => server.close());

    it("refuses a token signed with the server's own key that lives longer than the TTL", async () => {
      const email = newEmail();
      await post(server.app, '/auth/register', { email, password: PASSWORD });
      const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      const { accessToken } = login.json() as { accessToken: string };
      const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString());
      expect(claims.exp - claims.iat).toBe(300); // the default TTL

      // The attacker holds the active signing key (as read from a leaked database and KEK).
      const active = (await server.tessera.stores.signingKeys.listSigningKeys()).find(
        (k) => k.status === 'active',
      );
      if (!active) throw new Error('no active key');
      const key = openSigningKey(
        {
          kid: active.kid,
          alg: active.alg,
          status: active.status,
          createdAt: active.createdAt,
          ...(active.publicJwk ? { publicJwk: JSON.parse(active.publicJwk) as PublicJwk } : {}),
          privateKeyEncrypted: active.privateKeyEncrypted,
        },
        parseKeyEncryptionKey(KEK),
      );
      const mint = (lifetimeSeconds: number) =>
        createAccessTokenSigner({
          key,
          issuer: claims.iss,
          audience: claims.aud,
          runtime: server.clock,
          lifetimeSeconds,
        })({ sub: claims.sub, sid: claims.sid, roles: [] }).token;
      const session = (token: string) =>
        server.app.inject({
          method: 'GET',
          url: '/auth/session',
          headers: { authorization: `Bearer ${token}` },
        });

      // Control: the same forgery with the configured lifetime opens the login.
      expect((await session(mint(300))).statusCode).toBe(200);
      const longLived = await session(mint(3600));
      expect(longLived.statusCode).toBe(401);
      expect(longLived.json().error).toBe('token_claims_invalid');
    });
  });
}
