import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';
import {
  authorizeToCallback,
  type Browser,
  basic,
  formPost,
  type OAuthServer,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  signIn,
  startOAuthServer,
} from './harness.js';

/**
 * A used authorization code replayed in parallel with its first exchange, on PostgreSQL (a
 * pool of connections, so the requests really run at once): whatever the interleaving, no
 * login produced by the code survives, because the code's use and the login it produces are
 * committed together (store.redeemAuthorizationCode) and every replay revokes that login.
 */
await describeWithPostgres('OAuth code replay on PostgreSQL', (url) => {
  let server: OAuthServer;
  let browser: Browser;
  let rc: RegisteredClient;
  beforeAll(async () => {
    const schema = testSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    await client.end();
    const withSchema = new URL(url);
    withSchema.searchParams.set('options', `-c search_path=${schema}`);
    server = await startOAuthServer({
      TESSERA_DATABASE_URL: withSchema.toString(),
      TESSERA_DATABASE_POOL_SIZE: '16',
      TESSERA_KEY_ENCRYPTION_KEY: 'cd'.repeat(32),
    });
    browser = await signIn(server);
    rc = await registerClient(server);
  });
  afterAll(async () => {
    await server?.close();
    await dropTestSchemas(url);
  });

  it('parallel exchanges of one code: at most one succeeds, and the login it made ends', async () => {
    const ROUNDS = 8;
    const PARALLEL = 8;
    let winners = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { callback, verifier } = await authorizeToCallback(server, browser, rc);
      const code = callback.searchParams.get('code') as string;
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          formPost(
            server.as.token_endpoint as string,
            { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI },
            basic(rc.client.client_id, rc.secret as string),
          ),
        ),
      );
      const succeeded = answers.filter((a) => a.status === 200);
      expect(succeeded.length, `round ${round}`).toBeLessThanOrEqual(1);
      for (const answer of answers) {
        if (answer.status !== 200) expect(answer.body.error).toBe('invalid_grant');
      }
      winners += succeeded.length;
      // Every replay revoked what the code produced: no live login, and its refresh token is dead.
      expect(
        await server.tessera.stores.sessions.listOAuthSessions({ clientId: rc.client.client_id }),
      ).toEqual([]);
      for (const { body } of succeeded) {
        const refreshed = await formPost(
          server.as.token_endpoint as string,
          { grant_type: 'refresh_token', refresh_token: body.refresh_token as string },
          basic(rc.client.client_id, rc.secret as string),
        );
        expect(refreshed.body.error).toBe('invalid_grant');
      }
    }
    // The race was run: some round had a winner to revoke.
    expect(winners).toBeGreaterThan(0);
  }, 120_000);
});
