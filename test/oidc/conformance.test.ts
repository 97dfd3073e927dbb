import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  consentFields,
  type OAuthServer,
  registerClient,
  signIn,
  startOAuthServer,
  submitConsent,
} from '../oauth/harness.js';

/**
 * The negative cases of the OpenID conformance suite's basic and config profiles that apply to
 * a code-flow-only provider, plus prompt / max_age / id_token_hint and RP-initiated logout's
 * refusals. openid-client (defaults, allowInsecureRequests for the http issuer) is the RP.
 */
let server: OAuthServer;
const RP = 'https://rp.example';
const CALLBACK = `${RP}/callback`;

beforeAll(async () => {
  server = await startOAuthServer();
});
afterAll(() => server?.close());

async function relyingParty() {
  const rc = await registerClient(server, {
    name: 'Ledger Lens',
    redirectUris: [CALLBACK],
    scopes: ['openid', 'email'],
    oidc: { postLogoutRedirectUris: [`${RP}/signed-out`] },
  });
  const config = await client.discovery(
    new URL(server.url),
    rc.client.client_id,
    undefined,
    client.ClientSecretBasic(rc.secret as string),
    { execute: [client.allowInsecureRequests] },
  );
  return { rc, config };
}

async function authorizeUrl(config: client.Configuration, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  return { url, verifier, nonce, state };
}

const open = (url: URL | string, browser: Browser | null) =>
  fetch(url, { redirect: 'manual', headers: browser ? { cookie: browser.cookie } : {} });

/** Authorize (consent once), return the callback URL. */
async function callbackFor(url: URL, browser: Browser): Promise<URL> {
  let response = await open(url, browser);
  if (response.status === 200)
    response = await submitConsent(server, browser, await consentFields(response), 'approve');
  expect([302, 303]).toContain(response.status);
  return new URL(response.headers.get('location') as string);
}

async function idTokenOf(config: client.Configuration, browser: Browser) {
  const { url, verifier, nonce, state } = await authorizeUrl(config);
  const tokens = await client.authorizationCodeGrant(config, await callbackFor(url, browser), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
  });
  return tokens;
}

const errorOf = (response: Response) => {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') as string);
  expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
  return Object.fromEntries(location.searchParams);
};

describe('conformance: refusals', () => {
  it('nonce mismatch: the ID token carries the nonce sent, so the RP refuses another', async () => {
    const { config } = await relyingParty();
    const browser = await signIn(server);
    const { url, verifier, state } = await authorizeUrl(config);
    const callback = await callbackFor(url, browser);
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedNonce: client.randomNonce(),
        expectedState: state,
      }),
    ).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' });
  });

  it('prompt=none with no login → login_required at the registered redirect URI, with state', async () => {
    const { config } = await relyingParty();
    const { url, state } = await authorizeUrl(config, { prompt: 'none' });
    expect(errorOf(await open(url, null))).toMatchObject({ error: 'login_required', state, iss: server.url });
  });

  it('prompt=none with a login but no consent → consent_required; prompt "none login" → invalid_request', async () => {
    const { config } = await relyingParty();
    const browser = await signIn(server);
    const { url } = await authorizeUrl(config, { prompt: 'none' });
    expect(errorOf(await open(url, browser)).error).toBe('consent_required');
    const both = await authorizeUrl(config, { prompt: 'none login' });
    expect(errorOf(await open(both.url, browser)).error).toBe('invalid_request');
  });

  it('a reused code is refused (invalid_grant) and what it bought is revoked', async () => {
    const { config } = await relyingParty();
    const browser = await signIn(server);
    const { url, verifier, nonce, state } = await authorizeUrl(config);
    const callback = await callbackFor(url, browser);
    const checks = { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state };
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    await expect(client.authorizationCodeGrant(config, callback, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('a wrong redirect_uri: never redirected to (a page), and refused at the token endpoint', async () => {
    const { config, rc } = await relyingParty();
    const browser = await signIn(server);
    const bad = await authorizeUrl(config, { redirect_uri: `${RP}/elsewhere` });
    const page = await open(bad.url, browser);
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const { url, verifier } = await authorizeUrl(config);
    const callback = await callbackFor(url, browser);
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${rc.client.client_id}:${rc.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') as string,
        redirect_uri: `${RP}/elsewhere`,
        code_verifier: verifier,
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a code whose sign-in ended before the exchange is refused (the RP would never hear of that end)', async () => {
    const { config } = await relyingParty();
    const browser = await signIn(server);
    const { url, verifier, nonce, state } = await authorizeUrl(config);
    const callback = await callbackFor(url, browser);
    const [login] = (await server.tessera.sessions.listOfUser(browser.userId)).filter(
      (s) => s.mode !== 'oauth',
    );
    await server.tessera.sessions.revoke(login?.id as string);
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedNonce: nonce,
        expectedState: state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(
      await server.tessera.stores.relyingPartyLogins.listRelyingPartyLogins([login?.id as string]),
    ).toEqual([]);
  });

  it('id_token_hint of another user → login_required; a forged hint → invalid_request', async () => {
    const { config } = await relyingParty();
    const [alice, bob] = [await signIn(server), await signIn(server)];
    const bobs = await idTokenOf(config, bob);
    await idTokenOf(config, alice); // alice consents once
    const hinted = await authorizeUrl(config, { prompt: 'none', id_token_hint: bobs.id_token as string });
    expect(errorOf(await open(hinted.url, alice))).toMatchObject({ error: 'login_required' });
    // Bob's own hint works for bob without a page.
    const own = await authorizeUrl(config, { prompt: 'none', id_token_hint: bobs.id_token as string });
    const ok = await open(own.url, bob);
    expect(new URL(ok.headers.get('location') as string).searchParams.get('code')).toBeTruthy();
    const [h, p] = (bobs.id_token as string).split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    const bad = await authorizeUrl(config, { id_token_hint: forged });
    expect(errorOf(await open(bad.url, alice))).toMatchObject({ error: 'invalid_request' });
  });
});
