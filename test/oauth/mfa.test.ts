import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MFA_CHALLENGE_COOKIE } from '../../src/http/routes/login-answer.js';
import { newEmail, PASSWORD, post } from '../helpers.js';
import { totpAt } from '../mfa-helpers.js';
import {
  API,
  authorizeRequest,
  authorizeToCallback,
  codeFlow,
  formPost,
  introspectWith,
  type OAuthServer,
  registerClient,
  registerResourceServer,
  startOAuthServer,
} from './harness.js';

let server: OAuthServer;
beforeAll(async () => {
  server = await startOAuthServer();
});
afterAll(() => server.close());

const cookiesOf = (response: { cookies: Array<{ name: string; value: string }> }) =>
  response.cookies
    .filter((c) => c.name.startsWith('__Host-tessera_') && c.value !== '')
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');

describe('a second factor inside the OAuth authorization flow', () => {
  it('the sign-in page asks for the code; consent only after it; the delegation inherits amr and auth_time', async () => {
    const email = newEmail();
    const userId = (await server.tessera.accounts.register({ email, password: PASSWORD })).id;
    const first = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    const headers = { authorization: `Bearer ${first.json().token ?? first.json().accessToken}` };
    const { secret } = (await server.app.inject({ method: 'POST', url: '/auth/mfa/totp', headers })).json();
    const code = totpAt(secret, server.clock.now());
    await server.app.inject({ method: 'POST', url: '/auth/mfa/totp/confirm', headers, payload: { code } });
    const rc = await registerClient(server);

    // Password only: a challenge, which does not open the authorization (the sign-in page again,
    // now with the code form the page script reveals).
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    expect(login.json()).toMatchObject({ mfaRequired: true });
    const challenged = { userId, email, cookie: cookiesOf(login) };
    expect(challenged.cookie).toContain(MFA_CHALLENGE_COOKIE);
    const page = await authorizeRequest(server, challenged, rc, { codeChallenge: 'x'.repeat(43) });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('id="login-form"');
    expect(html).toContain('id="mfa-form"');
    expect(html).not.toContain('consent_ticket');
    const script = await (await fetch(`${server.url}/oauth/login.js`)).text();
    expect(script).toContain("post('/auth/mfa/verify'");

    server.clock.advance(30_000);
    const verified = await post(
      server.app,
      '/auth/mfa/verify',
      { code: totpAt(secret, server.clock.now()) },
      { cookie: challenged.cookie },
    );
    expect(verified.statusCode, verified.body).toBe(200);
    const browser = { userId, email, cookie: cookiesOf(verified) };
    const tokens = await codeFlow(server, browser, rc, { scope: 'accounts:read' });

    const { payload } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(server.as.jwks_uri as string)),
      {
        issuer: server.url,
        audience: API,
        currentDate: new Date(server.clock.now()),
      },
    );
    expect(payload).toMatchObject({
      sub: userId,
      amr: ['mfa', 'otp', 'pwd'],
      acr: 'aal2',
      auth_time: Math.floor(server.clock.now() / 1000),
    });
    const rs = await registerResourceServer(server);
    const introspected = await introspectWith(server, rs, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, amr: ['mfa', 'otp', 'pwd'], acr: 'aal2' });

    // Signing in to a relying party (scope=openid): its ID token states the same proof.
    const rp = await registerClient(server, { scopes: ['openid', 'accounts:read'] });
    const { callback, verifier } = await authorizeToCallback(server, browser, rp, {
      scope: 'openid accounts:read',
    });
    const basic = Buffer.from(`${rp.client.client_id}:${rp.secret}`).toString('base64');
    const exchanged = await formPost(
      server.as.token_endpoint as string,
      {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') as string,
        redirect_uri: rp.redirectUri,
        code_verifier: verifier,
      },
      { authorization: `Basic ${basic}` },
    );
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(decodeJwt(exchanged.body.id_token as string)).toMatchObject({
      sub: userId,
      amr: ['mfa', 'otp', 'pwd'],
      acr: 'aal2',
      auth_time: Math.floor(server.clock.now() / 1000),
    });
  });
});
