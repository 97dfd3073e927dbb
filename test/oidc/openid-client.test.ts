import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
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
 * panva's openid-client v6 as the relying party, with its defaults: discovery, the code flow
 * with PKCE, state and nonce, ID-token validation (signature against the JWKS, iss, aud, exp,
 * iat, nonce, at_hash), userinfo, refresh, RP-initiated logout. The one option is the
 * library's own `allowInsecureRequests`, because the test issuer is http://127.0.0.1.
 */
let server: OAuthServer;
const RP = 'https://rp.example';

async function relyingParty(overrides: Parameters<typeof registerClient>[1] = {}) {
  const rc = await registerClient(server, {
    name: 'Ledger Lens',
    redirectUris: [`${RP}/callback`],
    scopes: ['openid', 'email', 'profile', 'accounts:read'],
    oidc: { postLogoutRedirectUris: [`${RP}/signed-out`] },
    ...overrides,
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

/** The browser's part: authorize (consenting when asked), follow the redirect back. */
async function frontChannel(browser: Browser | null, url: URL): Promise<Response> {
  let response = await fetch(url, { redirect: 'manual', headers: browser ? { cookie: browser.cookie } : {} });
  if (response.status === 200 && browser && (await response.clone().text()).includes('wants access')) {
    response = await submitConsent(server, browser, await consentFields(response), 'approve');
  }
  return response;
}

async function signInWith(
  config: client.Configuration,
  browser: Browser,
  extra: Record<string, string> = {},
) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${RP}/callback`,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  const response = await frontChannel(browser, url);
  expect([302, 303]).toContain(response.status);
  const callback = new URL(response.headers.get('location') as string);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
  });
  return { tokens, nonce, callback, verifier, state };
}

describe.each(['session', 'jwt', 'hybrid'] as const)(
  'openid-client as the relying party (%s mode)',
  (mode) => {
    beforeAll(async () => {
      server = await startOAuthServer({ TESSERA_MODE: mode });
    });
    afterAll(() => server?.close());

    it('discovers the provider: the OpenID metadata is the RFC 8414 metadata', async () => {
      const { config } = await relyingParty();
      const metadata = config.serverMetadata();
      expect(metadata.issuer).toBe(server.url);
      expect(metadata.userinfo_endpoint).toBe(`${server.url}/oauth/userinfo`);
      expect(metadata.end_session_endpoint).toBe(`${server.url}/oauth/logout`);
      expect(metadata.backchannel_logout_supported).toBe(true);
      expect(metadata.id_token_signing_alg_values_supported).toEqual(['EdDSA']);
      const rfc8414 = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
      const oidc = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
      expect(oidc).toEqual(rfc8414);
    });

    it('signs in with PKCE and nonce; the ID token validates and says exactly what it should', async () => {
      const { config, rc } = await relyingParty();
      const browser = await signIn(server);
      const { tokens, nonce } = await signInWith(config, browser);
      const claims = tokens.claims();
      expect(claims).toBeDefined();
      expect(decodeProtectedHeader(tokens.id_token as string)).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
      expect(claims).toMatchObject({ iss: server.url, sub: browser.userId, aud: rc.client.client_id, nonce });
      expect(Object.keys(claims ?? {}).sort()).toEqual(
        ['acr', 'amr', 'at_hash', 'aud', 'auth_time', 'exp', 'iat', 'iss', 'nonce', 'sid', 'sub'].sort(),
      );
      // How the user proved who they are: a password alone (RFC 8176), assurance level 1.
      expect(claims).toMatchObject({ amr: ['pwd'], acr: 'aal1' });
      // No claim of the scopes in the ID token: they come from userinfo.
      expect(claims).not.toHaveProperty('email');
      // Verified by jose against the JWKS too, independently of openid-client.
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      await jwtVerify(tokens.id_token as string, jwks, { issuer: server.url, audience: rc.client.client_id });
      // sid is opaque: never the login's id.
      const session = (await server.tessera.sessions.listOfUser(browser.userId))[0];
      expect(claims?.sid).not.toBe(session?.id);
    });

    it('userinfo gives the claims the scopes cover, GET and POST, and nothing for a token without openid', async () => {
      const { config } = await relyingParty();
      const browser = await signIn(server);
      const { tokens } = await signInWith(config, browser);
      const sub = tokens.claims()?.sub as string;
      const info = await client.fetchUserInfo(config, tokens.access_token, sub);
      expect(info).toEqual({
        sub,
        email: browser.email,
        email_verified: false,
        updated_at: expect.any(Number),
      });
      const post = await fetch(`${server.url}/oauth/userinfo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(await post.json()).toEqual(info);
      const none = await fetch(`${server.url}/oauth/userinfo`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('invalid_token');
      expect(await none.json()).toMatchObject({ error: 'invalid_token' });
      // A body it cannot read is an OAuth error in JSON too (the declared error shape), not a page.
      const unreadable = await fetch(`${server.url}/oauth/userinfo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'text/plain' },
        body: 'access_token',
      });
      expect(unreadable.status).toBe(415);
      expect(await unreadable.json()).toMatchObject({ error: 'invalid_request' });
      // Only the openid scope: sub alone.
      const narrow = await signInWith(config, browser, { scope: 'openid' });
      expect(await client.fetchUserInfo(config, narrow.tokens.access_token, sub)).toEqual({ sub });
      // A token narrowed to a scope without openid: no ID token, and userinfo refuses it.
      const wide = await signInWith(config, browser, { scope: 'openid accounts:read' });
      const narrowed = await client.refreshTokenGrant(config, wide.tokens.refresh_token as string, {
        scope: 'accounts:read',
      });
      expect(narrowed.id_token).toBeUndefined();
      const refused = await fetch(`${server.url}/oauth/userinfo`, {
        headers: { authorization: `Bearer ${narrowed.access_token}` },
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    });

    it('refresh returns a fresh ID token about the same sign-in (sub, sid, auth_time)', async () => {
      const { config } = await relyingParty();
      const browser = await signIn(server);
      const { tokens } = await signInWith(config, browser);
      server.clock.advance(5_000);
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
      const before = tokens.claims();
      const after = refreshed.claims();
      expect(after).toMatchObject({ sub: before?.sub, sid: before?.sid, auth_time: before?.auth_time });
      expect(after).not.toHaveProperty('nonce');
      expect(refreshed.id_token).not.toBe(tokens.id_token);
    });

    it('pairwise subjects differ per sector and are stable; public subjects are the user id', async () => {
      const a = await relyingParty({ oidc: { subjectType: 'pairwise' } });
      const b = await relyingParty({
        redirectUris: ['https://other.example/callback'],
        oidc: { subjectType: 'pairwise' },
      });
      const browser = await signIn(server);
      const subA = (await signInWith(a.config, browser)).tokens.claims()?.sub;
      const subA2 = (await signInWith(a.config, browser)).tokens.claims()?.sub;
      const subB = await (async () => {
        const verifier = client.randomPKCECodeVerifier();
        const nonce = client.randomNonce();
        const url = client.buildAuthorizationUrl(b.config, {
          redirect_uri: 'https://other.example/callback',
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          nonce,
        });
        const response = await frontChannel(browser, url);
        const tokens = await client.authorizationCodeGrant(
          b.config,
          new URL(response.headers.get('location') as string),
          {
            pkceCodeVerifier: verifier,
            expectedNonce: nonce,
          },
        );
        return tokens.claims()?.sub;
      })();
      expect(subA).toBe(subA2);
      expect(subA).not.toBe(browser.userId);
      expect(subB).not.toBe(subA);
      expect(subA).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('RP-initiated logout with the ID token as hint ends the Tessera login and returns to the registered URI with state', async () => {
      const { config } = await relyingParty();
      const browser = await signIn(server);
      const { tokens } = await signInWith(config, browser);
      const url = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: `${RP}/signed-out`,
        state: 'bye-1',
      });
      const response = await fetch(url, { redirect: 'manual', headers: { cookie: browser.cookie } });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(`${RP}/signed-out?state=bye-1`);
      const logins = await server.tessera.sessions.listOfUser(browser.userId);
      expect(logins.filter((login) => login.mode !== 'oauth')).toEqual([]);
      // The delegation born of that sign-in ended with it: its refresh token is refused.
      await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });
  },
);
