import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailTokens } from '../../src/core/email/email-tokens.js';
import { newEmail, PASSWORD } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';
import { consentFields, type OAuthServer, registerClient, startOAuthServer } from '../oauth/harness.js';
import { startRelyingParty } from './rp-server.js';

/**
 * Back-Channel Logout 1.0 for every way a login ends: a relying party server (real HTTP)
 * receives the logout token from the outbox and validates it with jose against the JWKS.
 * jwt mode, so that refresh-token reuse detection (which ends a browser login only where the
 * login is a refresh-token family) is among the endings. The outbox is drained by the test.
 */
let server: OAuthServer;
let rp: Awaited<ReturnType<typeof startRelyingParty>>;
let clientId = '';
const CALLBACK = 'https://rp.example/callback';
const CONTEXT = { ip: '127.0.0.1', userAgent: 'test' };
const ACTOR = { actorId: null, client: CONTEXT };

beforeAll(async () => {
  server = await startOAuthServer({ TESSERA_MODE: 'jwt' });
  rp = await startRelyingParty({
    issuer: server.url,
    clientId: () => clientId,
    now: () => server.clock.now(),
  });
});
afterAll(async () => {
  await rp?.close();
  await server?.close();
});

interface Login {
  userId: string;
  email: string;
  sessionId: string;
  refreshToken: string;
  headers: Record<string, string>;
}

async function login(email = newEmail()): Promise<Login> {
  const json = (body: unknown) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await fetch(`${server.url}/auth/register`, json({ email, password: PASSWORD }));
  const response = await fetch(
    `${server.url}/auth/login`,
    json({ email, password: PASSWORD, transport: 'bearer' }),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { user: { id: string }; accessToken: string; refreshToken: string };
  const sessionId = (await server.tessera.sessions.listOfUser(body.user.id))[0]?.id as string;
  return {
    userId: body.user.id,
    email,
    sessionId,
    refreshToken: body.refreshToken,
    headers: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** Signs the login into the relying party (code flow, openid-client); returns the ID token's claims. */
async function signInToRp(config: client.Configuration, user: Login) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
  });
  let response = await fetch(url, { redirect: 'manual', headers: user.headers });
  if (response.status === 200) {
    response = await fetch(`${server.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...user.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...(await consentFields(response)), decision: 'approve' }),
    });
  }
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(response.headers.get('location') as string),
    {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
    },
  );
  return {
    claims: tokens.claims() as unknown as { sub: string; sid: string },
    refreshToken: tokens.refresh_token as string,
  };
}

let config: client.Configuration;

beforeAll(async () => {
  const rc = await registerClient(server, {
    name: 'Ledger Lens',
    redirectUris: [CALLBACK],
    scopes: ['openid'],
    oidc: { backchannelLogoutUri: rp.url },
  });
  clientId = rc.client.client_id;
  config = await client.discovery(
    new URL(server.url),
    clientId,
    undefined,
    client.ClientSecretBasic(rc.secret as string),
    { execute: [client.allowInsecureRequests] },
  );
});

/** Ends the login as `end` does; the RP must receive exactly one valid token for its sid. */
async function expectLogoutToken(end: (user: Login) => Promise<unknown>) {
  const user = await login();
  const { claims, refreshToken } = await signInToRp(config, user);
  const before = rp.accepted.length;
  await end(user);
  await server.tessera.events.drain();
  await rp.waitFor(before + 1);
  const received = rp.accepted.slice(before).filter((a) => a.claims.sid === claims.sid);
  expect(received).toHaveLength(1);
  expect(received[0]?.claims).toMatchObject({
    iss: server.url,
    aud: clientId,
    sub: claims.sub,
    sid: claims.sid,
  });
  // The delegation born of that sign-in ended with it.
  await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({
    error: 'invalid_grant',
  });
  return user;
}

describe('back-channel logout: every ending tells the relying party', () => {
  it('logout (POST /auth/logout)', async () => {
    await expectLogoutToken((user) =>
      fetch(`${server.url}/auth/logout`, { method: 'POST', headers: user.headers }),
    );
  });

  it('logout-all (POST /auth/logout-all)', async () => {
    await expectLogoutToken((user) =>
      fetch(`${server.url}/auth/logout-all`, { method: 'POST', headers: user.headers }),
    );
  });

  it('lock (admin)', async () => {
    await expectLogoutToken((user) => server.tessera.control.lockUser(user.userId, 'fraud', ACTOR));
  });

  it('admin revocation of the login', async () => {
    await expectLogoutToken((user) => server.tessera.control.revokeSession(user.sessionId, ACTOR));
  });

  it('password reset', async () => {
    await expectLogoutToken(async (user) => {
      const token = await new EmailTokens(server.tessera.email.stores.tokens, server.clock).issue(
        user.userId,
        'reset',
        user.email,
      );
      await server.tessera.email.account.resetPassword(token, `${PASSWORD}-new!`, CONTEXT);
    });
  });

  it('"this wasn\'t me"', async () => {
    await expectLogoutToken(async (user) => {
      const token = await new EmailTokens(server.tessera.email.stores.tokens, server.clock).issue(
        user.userId,
        'not_me',
        user.email,
      );
      await server.tessera.email.alerts.notMe(token, CONTEXT);
    });
  });

  it('refresh-token reuse detection', async () => {
    await expectLogoutToken(async (user) => {
      await server.tessera.tokens?.refresh(user.refreshToken, CONTEXT);
      server.clock.advance(61_000); // past the grace window
      await expect(server.tessera.tokens?.refresh(user.refreshToken, CONTEXT)).rejects.toThrow();
    });
  });

  it('expiry (the sweep)', async () => {
    await expectLogoutToken(async () => {
      server.clock.advance(13 * 3_600_000); // past the 12 h absolute timeout
      await server.tessera.sessions.sweep();
    });
  });

  it('no token for a relying party the login never signed into, none twice, and the delivery row records the delay', async () => {
    const user = await login();
    const before = rp.accepted.length;
    await fetch(`${server.url}/auth/logout`, { method: 'POST', headers: user.headers });
    await server.tessera.events.drain();
    expect(rp.accepted.length).toBe(before);
    expect(rp.refused).toEqual([]);
    const deliveries = await server.tessera.stores.deliveries.listDeliveries({
      endpointId: clientId,
      limit: 100,
    });
    expect(deliveries.length).toBe(8);
    expect(deliveries.every((d) => d.status === 'delivered' && d.format === 'oidc-logout')).toBe(true);
    const jtis = new Set(rp.accepted.map((a) => a.claims.jti));
    expect(jtis.size).toBe(rp.accepted.length);
    // Operators see them through the admin API, with the delay from the login's end.
    const adminEmail = newEmail();
    await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
    // An admin signs in with a second factor (TESSERA_MFA_REQUIRED_ROLES): enrolled at login.
    const adminLogin = await loginWithSecondFactor(server.app, {
      email: adminEmail,
      password: PASSWORD,
      transport: 'bearer',
    });
    const admin = { headers: { authorization: `Bearer ${adminLogin.json().accessToken}` } };
    const listed = await fetch(`${server.url}/admin/api/clients/${clientId}/backchannel-logouts`, {
      headers: admin.headers,
    });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { deliveries: Array<Record<string, unknown>> };
    expect(body.deliveries).toHaveLength(8);
    expect(body.deliveries[0]).toMatchObject({ clientId, url: rp.url, status: 'delivered', attempts: 1 });
    expect(typeof body.deliveries[0]?.delayMs).toBe('number');
    const missing = await fetch(`${server.url}/admin/api/clients/nope/backchannel-logouts`, {
      headers: admin.headers,
    });
    expect(missing.status).toBe(404);
  });
});
