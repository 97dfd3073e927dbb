import { beforeEach, describe, expect, it } from 'vitest';
import type { AuthorizationCodeRecord } from '../../src/store/ports/index.js';
import type { SqlStores } from '../../src/store/sql/stores.js';

/**
 * An OpenID Connect code's `oidc` JSON column on every SQL engine, across a rolling deploy:
 * rows older builds wrote (the proof also inside the JSON, with acr) still read, and rows this
 * build writes keep auth_time and amr in the JSON, where older builds read them.
 */
export function sqlCodeShapesContract(engine: string, openStores: () => Promise<SqlStores>): void {
  describe(`authorization codes' oidc column: ${engine}`, () => {
    let stores: SqlStores;
    beforeEach(async () => {
      stores = await openStores();
      await stores.users.createUser({
        id: 'u1',
        email: 'u1@example.com',
        emailKey: 'u1@example.com',
        passwordHash: 'hash',
        roles: [],
        lockedAt: null,
        lockReason: null,
        createdAt: 1,
        updatedAt: 1,
      });
      await stores.oauthClients.createOAuthClient({
        id: 'rp',
        name: 'Relying party',
        type: 'confidential',
        secretHash: '12'.repeat(32),
        redirectUris: ['https://rp.example/callback'],
        scopes: ['openid'],
        grantTypes: ['authorization_code'],
        audience: 'https://api.example',
        createdAt: 1,
      });
      return () => stores.close();
    });
    const code: AuthorizationCodeRecord = {
      id: 'code1',
      secretHash: '34'.repeat(32),
      clientId: 'rp',
      userId: 'u1',
      sessionId: 'family1',
      redirectUri: 'https://rp.example/callback',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: ['openid'],
      audience: 'https://api.example',
      createdAt: 1_000,
      expiresAt: 61_000,
      usedAt: null,
      authTime: 900,
      amr: ['mfa', 'otp', 'pwd'],
      oidc: { nonce: 'n-0S6', authSessionId: 'browser-1' },
    };
    const oidcColumn = async () =>
      (
        await stores.db
          .selectFrom('oauth_codes')
          .select('oidc')
          .where('id', '=', code.id)
          .executeTakeFirstOrThrow()
      ).oidc;

    it('reads a row an older build wrote, with the proof inside the JSON too', async () => {
      await stores.authorizationCodes.createAuthorizationCode(code);
      const older = { ...code.oidc, authTime: 900, amr: ['mfa', 'otp', 'pwd'], acr: 'aal2' };
      await stores.db
        .updateTable('oauth_codes')
        .set({ oidc: JSON.stringify(older) })
        .where('id', '=', code.id)
        .execute();
      expect(await stores.authorizationCodes.findAuthorizationCode(code.id)).toEqual(code);
    });

    it('writes auth_time and amr into the JSON as well, where older builds read them', async () => {
      await stores.authorizationCodes.createAuthorizationCode(code);
      expect(JSON.parse((await oidcColumn()) as string)).toEqual({
        nonce: 'n-0S6',
        authSessionId: 'browser-1',
        authTime: 900,
        amr: ['mfa', 'otp', 'pwd'],
      });
      expect(await stores.authorizationCodes.findAuthorizationCode(code.id)).toEqual(code);
    });

    it('keeps a plain OAuth code without the column', async () => {
      const { oidc: _, ...plain } = code;
      await stores.authorizationCodes.createAuthorizationCode(plain);
      expect(await oidcColumn()).toBeNull();
      expect(await stores.authorizationCodes.findAuthorizationCode(code.id)).toEqual(plain);
    });
  });
}
