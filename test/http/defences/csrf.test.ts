import type { LightMyRequestResponse } from 'fastify';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE, SESSION_COOKIE } from '../../../src/http/credentials.js';
import { CSRF_COOKIE, CSRF_HEADER } from '../../../src/http/plugins/csrf.js';
import {
  csrfFor,
  newEmail,
  PASSWORD,
  post,
  registerAndLogin,
  sessionCookieOf,
  startTessera,
  type TestServer,
} from '../../helpers.js';

/**
 * Cross-site request forgery: a state-changing request that a cookie authenticates must carry
 * the anti-CSRF token of that very login, whatever route it goes to (routes added after the
 * defences were registered included); bearer requests need none.
 */

const cookieOf = (response: LightMyRequestResponse, name: string) =>
  response.cookies.find((c) => c.name === name)?.value || undefined;
const rawSetCookie = (response: LightMyRequestResponse, name: string) =>
  ([response.headers['set-cookie'] ?? []].flat() as string[]).find((h) => h.startsWith(`${name}=`));

function expectCsrfRefused(response: LightMyRequestResponse) {
  expect(response.statusCode, response.body).toBe(403);
  expect(response.json()).toEqual({ error: 'csrf_token_invalid', message: expect.any(String) });
  expect(response.headers['set-cookie']).toBeUndefined();
}

describe('session mode', () => {
  let server: TestServer;
  /** Calls to the routes below that the test registers after buildApp, as a later route would be. */
  const laterCalls: string[] = [];

  beforeAll(async () => {
    server = await startTessera();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const) {
      server.app.route({
        method,
        url: '/test/added-later',
        handler: async () => {
          laterCalls.push(method);
          return { ok: true };
        },
      });
    }
  });
  afterAll(() => server.close());

  const session = (token: string) =>
    server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
  const cookie = (token: string) => ({ cookie: `${SESSION_COOKIE}=${token}` });

  it('login sets a script-readable __Host- CSRF cookie equal to what GET /auth/csrf returns', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    const token = sessionCookieOf(login) as string;
    const csrfCookie = cookieOf(login, CSRF_COOKIE);
    expect(csrfCookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const raw = rawSetCookie(login, CSRF_COOKIE) as string;
    expect(raw).toMatch(/;\s*secure(;|$)/i);
    expect(raw).toMatch(/;\s*path=\/(;|$)/i);
    expect(raw).toMatch(/;\s*samesite=strict(;|$)/i);
    expect(raw).not.toMatch(/httponly/i);
    expect(raw).not.toMatch(/domain=/i);
    // A strict browser jar stores it and lets page script (a non-HTTP API) read it.
    const jar = new CookieJar(undefined, { prefixSecurity: 'strict' });
    await jar.setCookie(raw, 'https://tessera.test/auth/login');
    const readable = await jar.getCookies('https://tessera.test/', { http: false });
    expect(readable.map((c) => c.key)).toEqual([CSRF_COOKIE]);

    const fetched = await server.app.inject({ method: 'GET', url: '/auth/csrf', headers: cookie(token) });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json()).toEqual({ csrfToken: csrfCookie, header: CSRF_HEADER });
    // The helper's independent HMAC agrees with the server.
    expect(csrfFor(token)[CSRF_HEADER]).toBe(csrfCookie);
    // No login, no token.
    expect((await server.app.inject({ method: 'GET', url: '/auth/csrf' })).statusCode).toBe(401);
  });

  it('every cookie-authenticated state change is refused without the right token, and changes nothing', async () => {
    const alice = await registerAndLogin(server.app);
    const aliceToken = csrfFor(alice.token)[CSRF_HEADER] as string;
    const second = sessionCookieOf(
      await post(server.app, '/auth/login', { email: alice.email, password: PASSWORD }),
    ) as string;
    const mallory = await registerAndLogin(server.app);
    const [secondId] = second.split('.');

    const wrongTokens: Array<string | undefined> = [
      undefined,
      '',
      'x',
      csrfFor(mallory.token)[CSRF_HEADER], // the attacker's own valid token
      csrfFor(second)[CSRF_HEADER], // alice's *other* session: bound to the login, not the user
      aliceToken.slice(0, -1),
      `${aliceToken}A`,
      `${aliceToken.slice(0, -1)}${aliceToken.endsWith('A') ? 'B' : 'A'}`,
      aliceToken.toUpperCase() === aliceToken ? aliceToken.toLowerCase() : aliceToken.toUpperCase(),
      ` ${aliceToken}`,
      `${aliceToken}, ${aliceToken}`,
      Buffer.from(aliceToken, 'base64url').toString('base64'),
      Buffer.from(aliceToken, 'base64url').toString('hex'),
    ];
    const attempts = [
      { method: 'POST', url: '/auth/logout' },
      { method: 'POST', url: '/auth/logout-all' },
      {
        method: 'POST',
        url: '/auth/password',
        payload: { currentPassword: PASSWORD, newPassword: 'a forged new passphrase' },
      },
      { method: 'DELETE', url: `/auth/sessions/${secondId}` },
      { method: 'POST', url: '/test/added-later' },
      { method: 'PUT', url: '/test/added-later' },
      { method: 'PATCH', url: '/test/added-later' },
      { method: 'DELETE', url: '/test/added-later' },
    ] as const;
    for (const attempt of attempts) {
      for (const wrong of wrongTokens) {
        const headers: Record<string, string> = { ...cookie(alice.token) };
        if (wrong !== undefined) headers[CSRF_HEADER] = wrong;
        expectCsrfRefused(await server.app.inject({ ...attempt, headers }));
      }
    }
    // Nothing happened: both sessions live under their old tokens, the later route never ran,
    // the password is unchanged.
    expect((await session(alice.token)).statusCode).toBe(200);
    expect((await session(second)).statusCode).toBe(200);
    expect(await server.tessera.sessions.listOfUser(alice.userId)).toHaveLength(2);
    expect(laterCalls).toEqual([]);
    const relogin = await post(server.app, '/auth/login', {
      email: alice.email,
      password: PASSWORD,
      transport: 'bearer',
    });
    expect(relogin.statusCode).toBe(200);

    // With the token, the same requests go through (the later route included).
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const done = await server.app.inject({
        method,
        url: '/test/added-later',
        headers: { ...cookie(alice.token), [CSRF_HEADER]: aliceToken },
      });
      expect(done.statusCode, done.body).toBe(200);
    }
    expect(laterCalls).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
    const ended = await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${secondId}`,
      headers: { ...cookie(alice.token), [CSRF_HEADER]: aliceToken },
    });
    expect(ended.statusCode).toBe(204);
    expect((await session(second)).statusCode).toBe(401);
  });

  it('GET needs no token and changes nothing; the later GET route answers without one', async () => {
    const { token } = await registerAndLogin(server.app);
    expect((await session(token)).statusCode).toBe(200);
    const later = await server.app.inject({
      method: 'GET',
      url: '/test/added-later',
      headers: cookie(token),
    });
    expect(later.statusCode).toBe(200);
  });

  it('the token survives a password change (same login) and a new login gets a new one', async () => {
    const { email, token } = await registerAndLogin(server.app);
    const before = csrfFor(token);
    const change = await post(
      server.app,
      '/auth/password',
      { currentPassword: PASSWORD, newPassword: 'another long passphrase' },
      { ...cookie(token), ...before },
    );
    expect(change.statusCode, change.body).toBe(200);
    const rotated = sessionCookieOf(change) as string;
    expect(cookieOf(change, CSRF_COOKIE)).toBe(before[CSRF_HEADER]);
    const logoutAll = await post(server.app, '/auth/logout-all', undefined, {
      ...cookie(rotated),
      ...before,
    });
    expect(logoutAll.statusCode).toBe(200);

    const again = await post(server.app, '/auth/login', { email, password: 'another long passphrase' });
    const fresh = sessionCookieOf(again) as string;
    expect(cookieOf(again, CSRF_COOKIE)).not.toBe(before[CSRF_HEADER]);
    expectCsrfRefused(await post(server.app, '/auth/logout-all', undefined, { ...cookie(fresh), ...before }));
  });

  it('logout clears the CSRF cookie along with the session cookie', async () => {
    const { token } = await registerAndLogin(server.app);
    const csrf = csrfFor(token);
    const logout = await post(server.app, '/auth/logout', undefined, {
      cookie: `${SESSION_COOKIE}=${token}; ${CSRF_COOKIE}=${csrf[CSRF_HEADER]}`,
      ...csrf,
    });
    expect(logout.statusCode).toBe(204);
    expect(cookieOf(logout, SESSION_COOKIE)).toBeUndefined();
    expect(rawSetCookie(logout, CSRF_COOKIE)).toMatch(/^__Host-tessera_csrf=;.*Max-Age=0/i);
  });

  it('bearer requests need no token, even with a cookie riding along (the header wins)', async () => {
    const { email } = await registerAndLogin(server.app);
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    const bearer = login.json().token as string;
    const other = await registerAndLogin(server.app);
    const response = await post(server.app, '/auth/logout-all', undefined, {
      authorization: `Bearer ${bearer}`,
      ...cookie(other.token),
    });
    expect(response.statusCode).toBe(200);
    // The cookie's login was not used, so it is untouched.
    expect((await session(other.token)).statusCode).toBe(200);
  });

  it('a cookie that names no login needs no token: it authenticates nothing (401)', async () => {
    for (const garbage of ['garbage', '', '%%%', 'a.b.c', `${'A'.repeat(22)}.`]) {
      const response = await post(server.app, '/auth/logout-all', undefined, {
        cookie: `${SESSION_COOKIE}=${garbage}`,
      });
      expect(response.statusCode, garbage).toBe(401);
    }
  });

  it('login and register take no token (no login yet, and a stale cookie must not stop a login)', async () => {
    const victim = newEmail();
    const registered = await post(server.app, '/auth/register', { email: victim, password: PASSWORD });
    expect(registered.statusCode).toBe(201);
    const planted = `${'A'.repeat(22)}.${'B'.repeat(43)}`;
    const login = await post(
      server.app,
      '/auth/login',
      { email: victim, password: PASSWORD },
      cookie(planted),
    );
    expect(login.statusCode).toBe(200);
    expect(sessionCookieOf(login)).not.toBe(planted);
  });
});

describe('jwt mode', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTessera({ env: { TESSERA_MODE: 'jwt' } });
  });
  afterAll(() => server.close());

  async function browserLogin() {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    expect(login.statusCode).toBe(200);
    return {
      sid: login.json().session.id as string,
      at: cookieOf(login, ACCESS_TOKEN_COOKIE) as string,
      rt: cookieOf(login, REFRESH_TOKEN_COOKIE) as string,
      csrf: cookieOf(login, CSRF_COOKIE) as string,
    };
  }
  const refreshWithCookie = (rt: string, headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { cookie: `${REFRESH_TOKEN_COOKIE}=${rt}`, ...headers },
    });

  it('the token is bound to the login family (sid), the same for the access cookie and GET /auth/csrf', async () => {
    const { at, csrf } = await browserLogin();
    expect(csrf).toBe(csrfFor(at)[CSRF_HEADER]);
    const fetched = await server.app.inject({
      method: 'GET',
      url: '/auth/csrf',
      headers: { cookie: `${ACCESS_TOKEN_COOKIE}=${at}` },
    });
    expect(fetched.json().csrfToken).toBe(csrf);

    const withAccessCookie = (headers: Record<string, string>) =>
      post(server.app, '/auth/logout-all', undefined, { cookie: `${ACCESS_TOKEN_COOKIE}=${at}`, ...headers });
    expectCsrfRefused(await withAccessCookie({}));
    const other = await browserLogin();
    expectCsrfRefused(await withAccessCookie({ [CSRF_HEADER]: other.csrf }));
    expect((await withAccessCookie({ [CSRF_HEADER]: csrf })).statusCode).toBe(200);
  });

  it('a refresh by cookie needs the token; refused ones do not rotate; after the access token expired the cookie token still works', async () => {
    const { rt, csrf } = await browserLogin();
    const other = await browserLogin();
    expectCsrfRefused(await refreshWithCookie(rt));
    expectCsrfRefused(await refreshWithCookie(rt, { [CSRF_HEADER]: other.csrf }));
    expectCsrfRefused(await refreshWithCookie(rt, { [CSRF_HEADER]: `${csrf}x` }));
    // The access token (5 min) is long gone; the page still has the CSRF cookie.
    server.clock.advance(20 * 60_000);
    const refreshed = await refreshWithCookie(rt, { [CSRF_HEADER]: csrf });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(cookieOf(refreshed, CSRF_COOKIE)).toBe(csrf);
    // The refused attempts retired nothing: this was the first use of rt, so no reuse alarm.
    expect(refreshed.json()).toEqual({ accessTokenExpiresAt: expect.any(String) });
  });

  it('a bearer client refreshing with a body token needs no CSRF token', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const { refreshToken } = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const response = await post(server.app, '/auth/refresh', { refreshToken });
    expect(response.statusCode, response.body).toBe(200);
  });
});
