import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../src/resource-server.js';
import {
  API,
  authorizeRequest,
  authorizeToCallback,
  type Browser,
  codeFlow,
  consentFields,
  formPost,
  insecure,
  introspectWith,
  jsonRequest,
  type OAuthServer,
  REDIRECT_URI,
  type RegisteredClient,
  refreshWith,
  registerClient,
  registerResourceServer,
  signIn,
  startOAuthServer,
  submitConsent,
} from './harness.js';

let server: OAuthServer;
let jwks: ReturnType<typeof createRemoteJWKSet>;
beforeAll(async () => {
  // Session mode (the default): OAuth opens its signing keys on first use.
  server = await startOAuthServer();
  jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
});
afterAll(() => server.close());

const resourceServer = () => registerResourceServer(server);
const refresh = (rc: RegisteredClient, refreshToken: string) => refreshWith(server, rc, refreshToken);
const introspect = (rs: RegisteredClient, token: string) => introspectWith(server, rs, token);
const json = (browser: Browser, method: string, path: string, body?: unknown) =>
  jsonRequest(server, browser, method, path, body);

describe('discovery', () => {
  it('publishes RFC 8414 metadata whose issuer is exactly TESSERA_ISSUER, and the JWKS in session mode', async () => {
    expect(server.as.issuer).toBe(server.url);
    expect(server.as).toMatchObject({
      authorization_endpoint: `${server.url}/oauth/authorize`,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      scopes_supported: ['openid', 'email', 'profile', 'accounts:read', 'accounts:write'],
    });
    const keys = (await (await fetch(server.as.jwks_uri as string)).json()) as { keys: object[] };
    expect(keys.keys.length).toBeGreaterThan(0);
    for (const key of keys.keys) expect(key).not.toHaveProperty('d');
  });
});

describe('authorization code with PKCE', () => {
  it('asks consent on a strict page, redirects with a code and state, and the code buys RFC 9068 tokens', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const verifier = oauth.generateRandomCodeVerifier();
    const page = await authorizeRequest(server, browser, rc, {
      scope: 'profile accounts:read',
      state: 'st-1',
      codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
    });
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://app.example");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.clone().text();
    expect(html).toContain('Budget &lt;b&gt;Buddy&lt;/b&gt; wants access');
    expect(html).toContain('See your email address and account id');
    expect(html).toContain('See your accounts and their activity');
    expect(html).not.toContain('Make changes to your accounts');

    const back = await submitConsent(server, browser, await consentFields(page), 'approve');
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location') as string);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('st-1');
    expect(callback.searchParams.get('iss')).toBe(server.url);

    const params = oauth.validateAuthResponse(server.as, rc.client, callback, 'st-1');
    const tokens = await oauth.processAuthorizationCodeResponse(
      server.as,
      rc.client,
      await oauth.authorizationCodeGrantRequest(
        server.as,
        rc.client,
        rc.auth,
        params,
        REDIRECT_URI,
        verifier,
        insecure,
      ),
    );
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'profile accounts:read', expires_in: 300 });
    expect(tokens.refresh_token).toMatch(/^[\w-]{22}\.[\w-]{43}$/);

    // Any resource server checks it with nothing but the public keys.
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.url,
      audience: API,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: browser.userId,
      client_id: rc.client.client_id,
      scope: 'profile accounts:read',
    });
    expect(payload).not.toHaveProperty('roles');
    expect(decodeProtectedHeader(tokens.access_token).kid).toBeTruthy();
  });

  it('remembers the grant: the next authorization skips the page, prompt=consent asks again', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    await codeFlow(server, browser, rc);
    const again = await authorizeRequest(server, browser, rc, {
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    });
    expect(again.status).toBe(302);
    expect(new URL(again.headers.get('location') as string).searchParams.get('code')).toBeTruthy();
    const wider = await authorizeRequest(server, browser, rc, {
      scope: 'accounts:read accounts:write',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    });
    expect(wider.status).toBe(200);
    const forced = await authorizeRequest(server, browser, rc, {
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      extra: { prompt: 'consent' },
    });
    expect(forced.status).toBe(200);

    const grants = (await (await json(browser, 'GET', '/auth/grants')).json()) as { grants: unknown[] };
    expect(grants.grants).toEqual([
      {
        clientId: rc.client.client_id,
        clientName: 'Budget <b>Buddy</b>',
        scopes: [{ name: 'accounts:read', description: 'See your accounts and their activity' }],
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
      },
    ]);
  });

  it('a user who is not logged in gets a sign-in page (prompt=none: login_required); deny sends access_denied', async () => {
    const rc = await registerClient(server);
    const signInPage = await authorizeRequest(server, null, rc, {
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    });
    expect(signInPage.status).toBe(200);
    const html = await signInPage.text();
    expect(html).toContain('<script src="/oauth/login.js" defer></script>');
    expect(html).toContain('Sign in to continue to Budget &lt;b&gt;Buddy&lt;/b&gt;');
    expect((await fetch(`${server.url}/oauth/login.js`)).status).toBe(200);
    const silent = await authorizeRequest(server, null, rc, {
      state: 's',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      extra: { prompt: 'none' },
    });
    expect(new URL(silent.headers.get('location') as string).searchParams.get('error')).toBe(
      'login_required',
    );

    const browser = await signIn(server);
    const page = await authorizeRequest(server, browser, rc, {
      state: 'st-deny',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    });
    const denied = await submitConsent(server, browser, await consentFields(page), 'deny');
    const callback = new URL(denied.headers.get('location') as string);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('st-deny');
    expect(callback.searchParams.has('code')).toBe(false);
  });
});

describe('refresh, revocation, introspection', () => {
  it('rotates refresh tokens; a retired one after the grace window ends the whole delegation', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const first = await codeFlow(server, browser, rc);
    const second = await refresh(rc, first.refresh_token as string);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.scope).toBe('accounts:read');
    const third = await refresh(rc, second.refresh_token as string);
    server.clock.advance(11_000);
    await expect(refresh(rc, first.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(refresh(rc, third.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('revokes (RFC 7009): a refresh token ends its delegation; unknown tokens get 200 too', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const rs = await resourceServer();
    const tokens = await codeFlow(server, browser, rc);
    expect(await introspect(rs, tokens.access_token)).toMatchObject({ active: true });
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(server.as, rc.client, rc.auth, tokens.refresh_token as string, insecure),
    );
    await expect(refresh(rc, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await introspect(rs, tokens.access_token)).toEqual({ active: false });
    const unknown = await oauth.revocationRequest(server.as, rc.client, rc.auth, 'no-such-token', insecure);
    expect(unknown.status).toBe(200);
  });

  it('introspects (RFC 7662) for an authenticated resource server of the audience; {"active":false} and nothing else otherwise', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const rs = await resourceServer();
    const stranger = await registerClient(server, {
      redirectUris: [],
      audience: 'https://other.example',
      grantTypes: ['client_credentials'],
    });
    const tokens = await codeFlow(server, browser, rc);
    expect(await introspect(rs, tokens.access_token)).toMatchObject({
      active: true,
      client_id: rc.client.client_id,
      scope: 'accounts:read',
      sub: browser.userId,
      aud: API,
      iss: server.url,
      token_type: 'Bearer',
    });
    // The client itself may introspect its own tokens, the refresh token included.
    expect(await introspect(rc, tokens.refresh_token as string)).toMatchObject({
      active: true,
      client_id: rc.client.client_id,
    });
    expect(await introspect(rs, tokens.refresh_token as string)).toEqual({ active: false });
    expect(await introspect(stranger, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(rs, 'garbage')).toEqual({ active: false });
    expect(await introspect(rs, `${tokens.access_token.slice(0, -4)}AAAA`)).toEqual({ active: false });

    const anonymous = await formPost(server.as.introspection_endpoint as string, {
      token: tokens.access_token,
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const spa = await registerClient(server, { type: 'public' });
    const publicCaller = await formPost(server.as.introspection_endpoint as string, {
      token: tokens.access_token,
      client_id: spa.client.client_id,
    });
    expect(publicCaller.status).toBe(401);
  });

  it('client credentials: the client acts for itself (sub = client_id), no refresh token, scope narrowed on request', async () => {
    const rs = await resourceServer();
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      rs.client,
      rs.auth,
      { scope: 'accounts:read' },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(server.as, rs.client, response);
    expect(tokens.refresh_token).toBeUndefined();
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.url,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: rs.client.client_id,
      client_id: rs.client.client_id,
      scope: 'accounts:read',
    });
    const principal = await verifyAccessToken(tokens.access_token, {
      issuer: server.url,
      audience: API,
      jwks,
      scopes: ['accounts:read'],
    });
    expect(principal).toMatchObject({ userId: null, clientId: rs.client.client_id });
    expect(await introspect(rs, tokens.access_token)).toMatchObject({
      active: true,
      sub: rs.client.client_id,
    });
    // A web app registered for the code flow may not act for itself.
    const web = await registerClient(server);
    const refused = await oauth.clientCredentialsGrantRequest(server.as, web.client, web.auth, {}, insecure);
    await expect(
      oauth.processClientCredentialsResponse(server.as, web.client, refused),
    ).rejects.toMatchObject({
      error: 'unauthorized_client',
    });
  });
});

describe('users stay in control', () => {
  it('DELETE /auth/grants/:client withdraws the grant and every token of it', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const rs = await resourceServer();
    const a = await codeFlow(server, browser, rc);
    const b = await codeFlow(server, browser, rc);
    const withdrawn = await json(browser, 'DELETE', `/auth/grants/${rc.client.client_id}`);
    expect(withdrawn.status).toBe(204);
    for (const tokens of [a, b]) {
      await expect(refresh(rc, tokens.refresh_token as string)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect(await introspect(rs, tokens.access_token)).toEqual({ active: false });
    }
    expect((await json(browser, 'GET', '/auth/grants').then((r) => r.json())) as unknown).toEqual({
      grants: [],
    });
    expect((await json(browser, 'DELETE', `/auth/grants/${rc.client.client_id}`)).status).toBe(404);
    // The next authorization asks again.
    expect(
      (
        await authorizeRequest(server, browser, rc, {
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        })
      ).status,
    ).toBe(200);
  });

  it('logout-all and an admin lock end delegated logins too', async () => {
    const rc = await registerClient(server);
    const rs = await resourceServer();
    const browser = await signIn(server);
    const before = await codeFlow(server, browser, rc);
    expect((await json(browser, 'POST', '/auth/logout-all')).status).toBe(200);
    await expect(refresh(rc, before.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await introspect(rs, before.access_token)).toEqual({ active: false });

    const other = await signIn(server);
    const tokens = await codeFlow(server, other, rc);
    await server.tessera.control.lockUser(other.userId, 'fraud suspected', {
      actorId: null,
      client: { ip: 'cli', userAgent: 'cli' },
    });
    await expect(refresh(rc, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await introspect(rs, tokens.access_token)).toEqual({ active: false });
  });
});

describe('in hybrid mode', () => {
  let hybrid: OAuthServer;
  beforeAll(async () => {
    hybrid = await startOAuthServer({ TESSERA_MODE: 'hybrid' });
  });
  afterAll(() => hybrid.close());

  it('signs with the same keyring, and a delegated token never opens a first-party login', async () => {
    const rc = await registerClient(hybrid);
    const browser = await signIn(hybrid);
    const { callback, verifier, state } = await authorizeToCallback(hybrid, browser, rc);
    const params = oauth.validateAuthResponse(hybrid.as, rc.client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      hybrid.as,
      rc.client,
      await oauth.authorizationCodeGrantRequest(
        hybrid.as,
        rc.client,
        rc.auth,
        params,
        REDIRECT_URI,
        verifier,
        insecure,
      ),
    );
    const remote = createRemoteJWKSet(new URL(`${hybrid.url}/.well-known/jwks.json`));
    await expect(
      jwtVerify(tokens.access_token, remote, { issuer: hybrid.url, audience: API }),
    ).resolves.toBeTruthy();
    const asLogin = await fetch(`${hybrid.url}/auth/session`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asLogin.status).toBe(401);
    const asRefresh = await fetch(`${hybrid.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: tokens.refresh_token }),
    });
    expect(asRefresh.status).toBe(401);
    // The delegation is a login: a lock revokes its access tokens at once, on every node.
    expect(hybrid.tessera.revocations?.isRevoked(await hybridClaims(hybrid, tokens.access_token))).toBe(
      false,
    );
    await hybrid.tessera.control.lockUser(browser.userId, 'test', {
      actorId: null,
      client: { ip: 'cli', userAgent: 'cli' },
    });
    expect(hybrid.tessera.revocations?.isRevoked(await hybridClaims(hybrid, tokens.access_token))).toBe(true);
  });
});

const hybridClaims = async (s: OAuthServer, token: string) =>
  (await s.tessera.oauth.keyring()).verifyDelegated(token);
