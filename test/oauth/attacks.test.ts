import { createRemoteJWKSet } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../src/resource-server.js';
import { csrfFor } from '../helpers.js';
import {
  authorizeRequest,
  authorizeToCallback,
  type Browser,
  basic,
  codeFlow,
  consentFields,
  formPost,
  insecure,
  type OAuthServer,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  signIn,
  startOAuthServer,
  submitConsent,
} from './harness.js';

let server: OAuthServer;
let browser: Browser;
let rc: RegisteredClient;
let rs: RegisteredClient;
const LOOPBACK = 'http://127.0.0.1:8080/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

beforeAll(async () => {
  server = await startOAuthServer();
  browser = await signIn(server);
  rc = await registerClient(server, { redirectUris: [REDIRECT_URI, LOOPBACK] });
  rs = await registerClient(server, {
    redirectUris: [],
    grantTypes: ['client_credentials'],
    scopes: ['accounts:read'],
  });
});
afterAll(() => server.close());

const tokenRequest = (params: Record<string, string>, client = rc) =>
  formPost(
    server.as.token_endpoint as string,
    params,
    basic(client.client.client_id, client.secret as string),
  );
const introspect = async (token: string) =>
  oauth.processIntrospectionResponse(
    server.as,
    rs.client,
    await oauth.introspectionRequest(server.as, rs.client, rs.auth, token, insecure),
  );
/** A code issued to `rc` for `scope`, and the verifier that goes with it. */
const freshCode = async (options: { scope?: string; redirectUri?: string } = {}) => {
  const { callback, verifier } = await authorizeToCallback(server, browser, rc, options);
  return { code: callback.searchParams.get('code') as string, verifier };
};
const exchange = (code: string, verifier: string, redirectUri = REDIRECT_URI, client = rc) =>
  tokenRequest(
    { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri },
    client,
  );

describe('redirect URIs are matched exactly, and a mismatch is an error page, never a redirect', () => {
  const variations = [
    ['a longer path', 'https://app.example/callback/evil'],
    ['a trailing slash', 'https://app.example/callback/'],
    ['a path traversal', 'https://app.example/callback/../evil'],
    ['an added query', 'https://app.example/callback?next=https://evil.example'],
    ['an upper-case host', 'https://APP.example/callback'],
    ['an upper-case path', 'https://app.example/Callback'],
    ['an explicit port', 'https://app.example:443/callback'],
    ['another port', 'https://app.example:8443/callback'],
    ['another loopback port', 'http://127.0.0.1:8081/cb'],
    ['localhost for 127.0.0.1', 'http://localhost:8080/cb'],
    ['plain http', 'http://app.example/callback'],
    ['a fragment', 'https://app.example/callback#x'],
    ['userinfo', 'https://app.example@evil.example/callback'],
    ['another host', 'https://evil.example/callback'],
    ['a subdomain', 'https://evil.app.example/callback'],
    ['percent-encoding', 'https://app.example/%63allback'],
  ] as const;
  for (const [what, redirectUri] of variations) {
    it(`refuses ${what}`, async () => {
      const response = await authorizeRequest(server, browser, rc, { redirectUri, codeChallenge: CHALLENGE });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('not one this application registered');
    });
  }

  it('refuses an unknown client, a missing redirect URI and a repeated one the same way', async () => {
    const unknown = await authorizeRequest(
      server,
      browser,
      { ...rc, client: { client_id: 'nobody' } },
      { codeChallenge: CHALLENGE },
    );
    const missing = await authorizeRequest(server, browser, rc, {
      redirectUri: '',
      codeChallenge: CHALLENGE,
    });
    const url = new URL(server.as.authorization_endpoint as string);
    url.search = `client_id=${rc.client.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&redirect_uri=https%3A%2F%2Fevil.example%2F`;
    const repeated = await fetch(url, { redirect: 'manual', headers: { cookie: browser.cookie } });
    for (const response of [unknown, missing, repeated]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
  });

  it('accepts each registered URI exactly as registered, and the code is bound to the one used', async () => {
    const { code, verifier } = await freshCode({ redirectUri: LOOPBACK });
    expect((await exchange(code, verifier, REDIRECT_URI)).body).toMatchObject({ error: 'invalid_grant' });
    expect((await exchange(code, verifier, LOOPBACK)).status).toBe(200);
  });
});

describe('PKCE (S256 only)', () => {
  const errorOf = async (options: Parameters<typeof authorizeRequest>[3]) => {
    const response = await authorizeRequest(server, browser, rc, { state: 'st', ...options });
    expect(response.status).toBe(302);
    const callback = new URL(response.headers.get('location') as string);
    expect(callback.searchParams.get('state')).toBe('st');
    expect(callback.searchParams.has('code')).toBe(false);
    return callback.searchParams.get('error');
  };

  it('refuses plain, a missing method and a missing challenge at the authorization endpoint', async () => {
    expect(await errorOf({ codeChallenge: 'a'.repeat(43), method: 'plain' })).toBe('invalid_request');
    expect(await errorOf({ codeChallenge: CHALLENGE, method: null })).toBe('invalid_request');
    expect(await errorOf({ codeChallenge: null })).toBe('invalid_request');
    expect(await errorOf({ codeChallenge: 'too-short' })).toBe('invalid_request');
  });

  it('refuses a wrong or missing verifier at the token endpoint, without spending the code', async () => {
    const { code, verifier } = await freshCode();
    const wrong = await exchange(code, oauth.generateRandomCodeVerifier());
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const missing = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
    });
    expect(missing.body.error).toBe('invalid_request');
    expect((await exchange(code, verifier)).status).toBe(200);
  });
});

describe('authorization codes', () => {
  it('a reused code is refused and revokes the tokens issued from it', async () => {
    const { code, verifier } = await freshCode();
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const tokens = first.body as { access_token: string; refresh_token: string };
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true });
    const second = await exchange(code, verifier);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('expires after 60 seconds and works for the client it was issued to only', async () => {
    const other = await registerClient(server);
    const { code, verifier } = await freshCode();
    expect((await exchange(code, verifier, REDIRECT_URI, other)).body.error).toBe('invalid_grant');
    server.clock.advance(60_000);
    expect((await exchange(code, verifier)).body.error).toBe('invalid_grant');
  });

  it('cannot be exchanged once the user has withdrawn the grant', async () => {
    const { code, verifier } = await freshCode();
    const withdrawn = await fetch(`${server.url}/auth/grants/${rc.client.client_id}`, {
      method: 'DELETE',
      headers: { cookie: browser.cookie, ...csrfFor(browser.cookie) },
    });
    expect(withdrawn.status).toBe(204);
    expect((await exchange(code, verifier)).body.error).toBe('invalid_grant');
  });
});

describe('scopes never grow', () => {
  it('refuses scopes the client may not ask for, and unknown scopes', async () => {
    const narrow = await registerClient(server, { scopes: ['profile'] });
    for (const scope of ['accounts:read', 'profile admin', 'profile\taccounts:read']) {
      const response = await authorizeRequest(server, browser, narrow, { scope, codeChallenge: CHALLENGE });
      expect(new URL(response.headers.get('location') as string).searchParams.get('error')).toBe(
        'invalid_scope',
      );
    }
  });

  it('a refresh may narrow the scope but never widen it', async () => {
    const tokens = await codeFlow(server, browser, rc, { scope: 'accounts:read' });
    const wider = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      scope: 'accounts:read accounts:write',
    });
    expect(wider).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const same = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    expect(same).toMatchObject({ status: 200, body: { scope: 'accounts:read' } });
  });

  it('one client cannot use another client’s refresh token', async () => {
    const thief = await registerClient(server);
    const tokens = await codeFlow(server, browser, rc);
    const stolen = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
      thief,
    );
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const owner = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    expect(owner.status).toBe(200);
  });
});

describe('the resource-server helper', () => {
  it('lets a read-scoped token read, and refuses it to write with 403 insufficient_scope (RFC 6750)', async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const options = { issuer: server.url, audience: 'https://api.example', jwks };
    const tokens = await codeFlow(server, browser, rc, { scope: 'accounts:read' });
    const reader = await verifyAccessToken(tokens.access_token, { ...options, scopes: ['accounts:read'] });
    expect(reader).toMatchObject({
      kind: 'access_token',
      userId: browser.userId,
      clientId: rc.client.client_id,
    });
    const write = verifyAccessToken(tokens.access_token, { ...options, scopes: ['accounts:write'] });
    await expect(write).rejects.toMatchObject({
      status: 403,
      error: 'insufficient_scope',
      wwwAuthenticate: expect.stringMatching(
        /^Bearer realm="https:\/\/api.example", error="insufficient_scope", .*scope="accounts:write"$/,
      ),
    });
    const otherApi = verifyAccessToken(tokens.access_token, {
      ...options,
      audience: 'https://other.example',
    });
    await expect(otherApi).rejects.toMatchObject({ status: 401, error: 'invalid_token' });
    const tampered = verifyAccessToken(`${tokens.access_token.slice(0, -3)}AAA`, options);
    await expect(tampered).rejects.toMatchObject({ status: 401, error: 'invalid_token' });
    await expect(verifyAccessToken(undefined, options)).rejects.toMatchObject({
      status: 401,
      error: undefined,
      wwwAuthenticate: 'Bearer realm="https://api.example"',
    });
    // Revocation reaches it at once when it asks Tessera (introspection).
    const strict = {
      ...options,
      introspectAccessTokens: true,
      introspection: {
        endpoint: server.as.introspection_endpoint as string,
        clientId: rs.client.client_id,
        clientSecret: rs.secret as string,
      },
    };
    await expect(verifyAccessToken(tokens.access_token, strict)).resolves.toMatchObject({
      scopes: ['accounts:read'],
    });
    await oauth.revocationRequest(server.as, rc.client, rc.auth, tokens.access_token, insecure);
    await expect(verifyAccessToken(tokens.access_token, strict)).rejects.toMatchObject({ status: 401 });
  });
});

describe('the token endpoint speaks OAuth, and refuses what OAuth 2.1 dropped', () => {
  it('refuses the password grant and the implicit flow', async () => {
    const password = await tokenRequest({ grant_type: 'password', username: browser.email, password: 'x' });
    expect(password).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    const implicit = await authorizeRequest(server, browser, rc, {
      codeChallenge: CHALLENGE,
      extra: { response_type: 'token' },
    });
    expect(new URL(implicit.headers.get('location') as string).searchParams.get('error')).toBe(
      'unsupported_response_type',
    );
  });

  it('authenticates clients strictly: 401 invalid_client with a Basic challenge, one method only', async () => {
    const wrong = await formPost(
      server.as.token_endpoint as string,
      { grant_type: 'client_credentials' },
      basic(rs.client.client_id, 'nope'),
    );
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    const both = await formPost(
      server.as.token_endpoint as string,
      { grant_type: 'client_credentials', client_secret: rs.secret as string },
      basic(rs.client.client_id, rs.secret as string),
    );
    expect(both.body.error).toBe('invalid_request');
    const post = await formPost(server.as.token_endpoint as string, {
      grant_type: 'client_credentials',
      client_id: rs.client.client_id,
      client_secret: rs.secret as string,
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('cache-control')).toBe('no-store');
    const json = await fetch(server.as.token_endpoint as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const repeated = await fetch(server.as.token_endpoint as string, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...basic(rs.client.client_id, rs.secret as string),
      },
      body: 'grant_type=client_credentials&scope=profile&scope=accounts:read',
    });
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('the consent form', () => {
  it('needs the anti-CSRF token of this login', async () => {
    const page = await authorizeRequest(server, browser, await registerClient(server), {
      codeChallenge: CHALLENGE,
    });
    const fields = await consentFields(page);
    const { csrf_token: _, ...withoutToken } = fields;
    const missing = await submitConsent(server, browser, withoutToken, 'approve');
    expect(missing.status).toBe(403);
    expect(missing.headers.get('location')).toBeNull();
    const other = await signIn(server);
    const otherPage = await authorizeRequest(server, other, await registerClient(server), {
      codeChallenge: CHALLENGE,
    });
    const foreign = await submitConsent(
      server,
      browser,
      { ...fields, csrf_token: (await consentFields(otherPage)).csrf_token as string },
      'approve',
    );
    expect(foreign.status).toBe(403);
  });

  it('a delegated token opens none of Tessera’s own routes', async () => {
    const tokens = await codeFlow(server, browser, rc);
    for (const path of ['/auth/session', '/auth/grants', '/auth/api-keys', '/admin/api/clients']) {
      const response = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(response.status).toBe(401);
    }
  });
});
