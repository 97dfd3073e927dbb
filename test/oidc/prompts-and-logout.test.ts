import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import {
  type Browser,
  consentFields,
  type OAuthServer,
  registerClient,
  signIn,
  startOAuthServer,
  submitConsent,
} from '../oauth/harness.js';

/** prompt=login / max_age, login_hint, RP-initiated logout's confirmation, registration checks. */
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
    scopes: ['openid'],
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

const open = (url: URL | string, browser: Browser | null) =>
  fetch(url, { redirect: 'manual', headers: browser ? { cookie: browser.cookie } : {} });

async function authorize(config: client.Configuration, browser: Browser, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    ...extra,
  });
  let response = await open(url, browser);
  if (response.status === 200 && (await response.clone().text()).includes('wants access')) {
    response = await submitConsent(server, browser, await consentFields(response), 'approve');
  }
  return { response, url, verifier, nonce };
}

async function idToken(config: client.Configuration, browser: Browser) {
  const { response, verifier, nonce } = await authorize(config, browser);
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(response.headers.get('location') as string),
    {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
    },
  );
  return tokens.id_token as string;
}

describe('prompt=login and max_age force a fresh sign-in', () => {
  it('prompt=login and max_age=0 show the sign-in page to a signed-in user; a recent enough login passes max_age', async () => {
    const { config } = await relyingParty();
    const browser = await signIn(server, 'hint@example.com'.replace('hint', `hint${Date.now()}`));
    await authorize(config, browser); // consent once
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const { response } = await authorize(config, browser, extra);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('data-fresh="1"');
      expect(html).toContain('sign in again');
      expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    }
    const recent = await authorize(config, browser, { max_age: '3600' });
    expect(recent.response.status).toBe(302);
    server.clock.advance(61_000);
    const stale = await authorize(config, browser, { max_age: '60' });
    expect(stale.response.status).toBe(200);
    const none = await authorize(config, browser, { max_age: '60', prompt: 'none' });
    expect(new URL(none.response.headers.get('location') as string).searchParams.get('error')).toBe(
      'login_required',
    );
  });

  it('login_hint prefills the email field, escaped', async () => {
    const { config } = await relyingParty();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      login_hint: '"><script>x</script>@example.com',
    });
    const html = await (await open(url, null)).text();
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;@example.com"');
  });
});

describe('RP-initiated logout', () => {
  it('without a hint: a confirmation page (CSRF token required), the login intact until the user confirms', async () => {
    const { config, rc } = await relyingParty();
    const browser = await signIn(server);
    const url = client.buildEndSessionUrl(config, {
      client_id: rc.client.client_id,
      post_logout_redirect_uri: `${RP}/signed-out`,
      state: 's-9',
    });
    const page = await open(url, browser);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${RP}`);
    const html = await page.text();
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    expect(fields.csrf_token).toBeTruthy();
    const live = async () =>
      (await server.tessera.sessions.listOfUser(browser.userId)).filter((s) => s.mode !== 'oauth').length;
    expect(await live()).toBe(1);
    const post = (body: Record<string, string>) =>
      fetch(`${server.url}/oauth/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: browser.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    // A cross-site form cannot know the token.
    const forged = await post({ ...fields, csrf_token: 'x', decision: 'logout' });
    expect(forged.status).toBe(403);
    expect(await live()).toBe(1);
    const confirmed = await post({ ...fields, decision: 'logout' });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`${RP}/signed-out?state=s-9`);
    expect(await live()).toBe(0);
  });

  it('an ID token of another login asks; an unregistered post_logout_redirect_uri is never redirected to', async () => {
    const { config } = await relyingParty();
    const [alice, bob] = [await signIn(server), await signIn(server)];
    const bobsToken = await idToken(config, bob);
    await idToken(config, alice);
    const other = await open(client.buildEndSessionUrl(config, { id_token_hint: bobsToken }), alice);
    expect(other.status).toBe(200);
    expect(await other.text()).toContain('asks to sign you out');
    const bad = await open(
      client.buildEndSessionUrl(config, {
        id_token_hint: bobsToken,
        post_logout_redirect_uri: 'https://evil.example/',
      }),
      bob,
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
    expect((await server.tessera.sessions.listOfUser(bob.userId)).some((s) => s.mode !== 'oauth')).toBe(true);
  });
});

describe('registration', () => {
  const create = (oidc: Record<string, unknown>, overrides: Record<string, unknown> = {}) =>
    server.tessera.oauth.clients.create(
      {
        name: 'RP',
        type: 'confidential',
        redirectUris: [CALLBACK],
        scopes: ['openid'],
        audience: 'https://api.example',
        oidc,
        ...overrides,
      },
      { actorId: null, client: { ip: 't', userAgent: 't' } },
    );

  it.each([
    [{ backchannelLogoutUri: 'http://rp.example/bc' }, /loopback/],
    [{ backchannelLogoutUri: 'https://rp.example/bc#x' }, /fragment/],
    [{ backchannelLogoutUri: 'com.example.app:/bc' }, /https/],
    [{ postLogoutRedirectUris: ['https://user:pw@rp.example/'] }, /credentials/],
    [{ postLogoutRedirectUris: ['not a url'] }, /absolute/],
    [{ idTokenSignedResponseAlg: 'RS256' }, /EdDSA/],
    [{ subjectType: 'secret' }, /public or pairwise/],
  ])('refuses %j', async (oidc, message) => {
    const error = await create(oidc).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringMatching(message) });
  });

  it('refuses OpenID settings on a client without the openid scope; the admin API takes and shows them', async () => {
    await expect(create({ subjectType: 'pairwise' }, { scopes: ['accounts:read'] })).rejects.toMatchObject({
      code: 'invalid_client_metadata',
    });
    const { client: made } = await create({
      subjectType: 'pairwise',
      backchannelLogoutUri: 'https://rp.example/backchannel',
      postLogoutRedirectUris: ['https://rp.example/bye'],
    });
    expect(made.oidc).toEqual({
      subjectType: 'pairwise',
      sectorIdentifier: 'rp.example',
      idTokenSignedResponseAlg: 'EdDSA',
      postLogoutRedirectUris: ['https://rp.example/bye'],
      backchannelLogoutUri: 'https://rp.example/backchannel',
      backchannelLogoutSessionRequired: true,
    });
  });
});
