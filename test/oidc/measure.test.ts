import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../src/core/oauth/authorization.js';
import { newEmail, PASSWORD } from '../helpers.js';
import { type OAuthServer, registerClient, startOAuthServer } from '../oauth/harness.js';

/**
 * MEASURE=1: what issuing an ID token adds to a code exchange. Codes are made through core
 * (no pages), exchanged in process (fastify inject: no sockets), alternating plain OAuth and
 * OpenID codes so both see the same machine state; prints µs per exchange and per ID token.
 */
const N = 400;
let server: OAuthServer;

beforeAll(async () => {
  server = await startOAuthServer();
});
afterAll(() => server?.close());

describe.skipIf(process.env.MEASURE !== '1')('cost of an ID token', () => {
  it('µs per token exchange, with and without openid', async () => {
    const { oauth } = server.tessera;
    const rc = await registerClient(server, { scopes: ['openid', 'accounts:read'] });
    const client = (await oauth.clients.find(rc.client.client_id)) as NonNullable<
      Awaited<ReturnType<typeof oauth.clients.find>>
    >;
    const email = newEmail();
    const user = await server.tessera.accounts.register({ email, password: PASSWORD });
    const browser = await server.tessera.sessions.create(user.id, { ip: '127.0.0.1', userAgent: 'm' });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const request = (openid: boolean): AuthorizationRequest => ({
      client,
      redirectUri: rc.redirectUri,
      scopes: openid ? ['openid', 'accounts:read'] : ['accounts:read'],
      state: undefined,
      codeChallenge: challenge,
      prompt: { none: false, login: false, consent: false },
      ...(openid && {
        oidc: { nonce: 'n', maxAge: undefined, loginHint: undefined, idTokenHint: undefined },
      }),
    });
    const signIn = { sessionId: browser.session.id, authTime: browser.session.createdAt, amr: ['pwd'] };
    const exchange = async (openid: boolean) => {
      const to = await oauth.authorization.approve(user.id, request(openid), {
        client: { ip: '127.0.0.1', userAgent: 'm' },
        consented: false,
        signIn,
      });
      const code = new URL(to).searchParams.get('code') as string;
      const started = process.hrtime.bigint();
      const response = await server.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.id}:${rc.secret}`).toString('base64')}`,
        },
        payload: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: rc.redirectUri,
          code_verifier: verifier,
        }).toString(),
      });
      const elapsed = Number(process.hrtime.bigint() - started) / 1000;
      expect(response.statusCode).toBe(200);
      expect(Boolean(response.json().id_token)).toBe(openid);
      return elapsed;
    };
    for (let i = 0; i < 50; i++) await exchange(i % 2 === 0); // warm-up
    const plain: number[] = [];
    const oidc: number[] = [];
    for (let i = 0; i < N; i++) {
      plain.push(await exchange(false));
      oidc.push(await exchange(true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const tokenOnly: number[] = [];
    for (let i = 0; i < N; i++) {
      const started = process.hrtime.bigint();
      await oauth.identity.idToken({
        client,
        userId: user.id,
        signIn,
        nonce: 'n',
        accessToken: 'x'.repeat(600),
      });
      tokenOnly.push(Number(process.hrtime.bigint() - started) / 1000);
    }
    console.log(
      `token exchange (median of ${N}): plain OAuth ${median(plain).toFixed(0)} µs, with openid ${median(oidc).toFixed(0)} µs, added ${(median(oidc) - median(plain)).toFixed(0)} µs; signing one ID token alone ${median(tokenOnly).toFixed(0)} µs`,
    );
  }, 120_000);
});
