import { createServer } from 'node:net';
import * as oauth from 'oauth4webapi';
import { expect } from 'vitest';
import type { NewClient } from '../../src/core/oauth/clients.js';
import { manualRuntime } from '../../src/core/runtime.js';
import { SESSION_COOKIE } from '../../src/http/credentials.js';
import { csrfFor, newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

/**
 * A Tessera listening on 127.0.0.1 (TESSERA_ISSUER is its real URL), driven over real HTTP by
 * oauth4webapi as the client, and by fetch with a Cookie header as the user's browser.
 */
export interface OAuthServer extends TestServer {
  url: string;
  /** The authorization server metadata, through oauth4webapi's discovery. */
  as: oauth.AuthorizationServer;
  clock: ReturnType<typeof manualRuntime>;
}

/** Plain http on loopback: oauth4webapi insists on https unless told. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function startOAuthServer(env: Record<string, string> = {}): Promise<OAuthServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Starts at the wall clock: jose (the resource server) checks exp against the real time.
  const clock = manualRuntime(Date.now());
  const server = await startTessera({ runtime: clock, env: { TESSERA_ISSUER: url, ...env } });
  await server.app.listen({ port, host: '127.0.0.1' });
  const issuer = new URL(url);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  const as = await oauth.processDiscoveryResponse(issuer, response);
  return { ...server, clock, url, as };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface Browser {
  userId: string;
  email: string;
  /** The Cookie header the user's browser sends to Tessera. */
  cookie: string;
}

/** Registers and logs in a user (as the login page's script would), keeping the session cookie. */
export async function signIn(server: OAuthServer, email = newEmail()): Promise<Browser> {
  const json = (body: unknown) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await fetch(`${server.url}/auth/register`, json({ email, password: PASSWORD }));
  const login = await fetch(`${server.url}/auth/login`, json({ email, password: PASSWORD }));
  expect(login.status).toBe(200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] as string)
    .filter((c) => c.startsWith('__Host-tessera_'))
    .join('; ');
  const token = cookie.split('; ').find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  expect(token ?? cookie).toBeTruthy();
  return { userId: ((await login.json()) as { user: { id: string } }).user.id, email, cookie };
}

/**
 * An admin signed in through the browser's cookies: the account has the admin role, so its
 * first login enrols an authenticator app with a real code (TESSERA_MFA_REQUIRED_ROLES).
 */
export async function adminSignIn(server: OAuthServer, email = newEmail()): Promise<Browser> {
  const user = await server.tessera.accounts.register({ email, password: PASSWORD }, ['admin']);
  const login = await loginWithSecondFactor(server.app, { email, password: PASSWORD });
  expect(login.statusCode, login.body).toBe(200);
  const cookie = login.cookies
    .filter((c) => c.name.startsWith('__Host-tessera_') && c.value !== '')
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
  return { userId: user.id, email, cookie };
}

export interface RegisteredClient {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  secret: string | undefined;
  redirectUri: string;
}

export const REDIRECT_URI = 'https://app.example/callback';

/** Registers a client (through core, as the CLI does); confidential by default. */
export async function registerClient(
  server: OAuthServer,
  overrides: Partial<NewClient> = {},
): Promise<RegisteredClient> {
  const { client, clientSecret } = await server.tessera.oauth.clients.create(
    {
      name: 'Budget <b>Buddy</b>',
      type: 'confidential',
      redirectUris: [REDIRECT_URI],
      scopes: ['profile', 'accounts:read', 'accounts:write'],
      audience: 'https://api.example',
      ...overrides,
    },
    { actorId: null, client: { ip: 'test', userAgent: 'test' } },
  );
  return {
    client: { client_id: client.id },
    auth: clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(clientSecret),
    secret: clientSecret,
    redirectUri: client.redirectUris[0] ?? '',
  };
}

export interface AuthorizeOptions {
  redirectUri?: string;
  scope?: string;
  state?: string;
  codeChallenge?: string | null;
  method?: string | null;
  extra?: Record<string, string>;
}

/** GET /oauth/authorize as the user's browser (redirects not followed). */
export function authorizeRequest(
  server: OAuthServer,
  browser: Browser | null,
  rc: RegisteredClient,
  options: AuthorizeOptions,
) {
  const url = new URL(server.as.authorization_endpoint as string);
  const params: Record<string, string | null | undefined> = {
    client_id: rc.client.client_id,
    redirect_uri: options.redirectUri ?? rc.redirectUri,
    response_type: 'code',
    scope: options.scope ?? 'accounts:read',
    state: options.state,
    code_challenge: options.codeChallenge,
    code_challenge_method: options.method === undefined ? 'S256' : options.method,
    ...options.extra,
  };
  for (const [name, value] of Object.entries(params))
    if (typeof value === 'string') url.searchParams.set(name, value);
  return fetch(url, { redirect: 'manual', headers: browser ? { cookie: browser.cookie } : {} });
}

/** The consent page's form fields (hidden inputs), as a browser would submit them. */
export async function consentFields(page: Response): Promise<Record<string, string>> {
  expect(page.status).toBe(200);
  const html = await page.text();
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) {
    fields[match[1] as string] = unescapeHtml(match[2] as string);
  }
  expect(fields.csrf_token).toBeTruthy();
  return fields;
}

const unescapeHtml = (text: string) =>
  text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] as string,
  );

/** Submits the consent form (Allow or Deny); returns the response (a 303 when it worked). */
export function submitConsent(
  server: OAuthServer,
  browser: Browser,
  fields: Record<string, string>,
  decision: 'approve' | 'deny',
) {
  return fetch(`${server.url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: browser.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision }),
  });
}

/**
 * The whole front channel: authorize, consent if asked, follow the redirect back. Returns the
 * callback URL the client receives, and the PKCE verifier it used.
 */
export async function authorizeToCallback(
  server: OAuthServer,
  browser: Browser,
  rc: RegisteredClient,
  options: AuthorizeOptions = {},
): Promise<{ callback: URL; verifier: string; state: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = options.state ?? oauth.generateRandomState();
  let response = await authorizeRequest(server, browser, rc, {
    codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
    ...options,
    state,
  });
  if (response.status === 200)
    response = await submitConsent(server, browser, await consentFields(response), 'approve');
  expect([302, 303]).toContain(response.status);
  return { callback: new URL(response.headers.get('location') as string), verifier, state };
}

/** The code flow end to end with oauth4webapi: the token response. */
export async function codeFlow(
  server: OAuthServer,
  browser: Browser,
  rc: RegisteredClient,
  options: AuthorizeOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const { callback, verifier, state } = await authorizeToCallback(server, browser, rc, options);
  const params = oauth.validateAuthResponse(server.as, rc.client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    rc.client,
    rc.auth,
    params,
    options.redirectUri ?? rc.redirectUri,
    verifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(server.as, rc.client, response);
}

/** A raw form POST to an OAuth endpoint (for requests oauth4webapi would refuse to make). */
export async function formPost(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
  };
}

export const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

export const API = 'https://api.example';

/** A resource server: a confidential client for its own audience, allowed to introspect. */
export const registerResourceServer = (server: OAuthServer) =>
  registerClient(server, { redirectUris: [], scopes: ['accounts:read'], grantTypes: ['client_credentials'] });

export const refreshWith = async (server: OAuthServer, rc: RegisteredClient, refreshToken: string) =>
  oauth.processRefreshTokenResponse(
    server.as,
    rc.client,
    await oauth.refreshTokenGrantRequest(server.as, rc.client, rc.auth, refreshToken, insecure),
  );

export const introspectWith = async (server: OAuthServer, rs: RegisteredClient, token: string) =>
  oauth.processIntrospectionResponse(
    server.as,
    rs.client,
    await oauth.introspectionRequest(server.as, rs.client, rs.auth, token, insecure),
  );

/** A JSON request to Tessera's own API as the signed-in browser (cookie + anti-CSRF header). */
export const jsonRequest = (
  server: OAuthServer,
  browser: Browser,
  method: string,
  path: string,
  body?: unknown,
) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: {
      cookie: browser.cookie,
      ...csrfFor(browser.cookie),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
