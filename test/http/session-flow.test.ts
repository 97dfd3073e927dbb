import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newEmail,
  PASSWORD,
  post,
  registerAndLogin,
  sessionCookieOf,
  startTessera,
  type TestServer,
  withSession,
} from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTessera();
});
afterAll(() => server.close());

const get = (url: string, token?: string) =>
  server.app.inject({ method: 'GET', url, headers: token ? withSession(token) : {} });

describe('the server-side session flow', () => {
  it('registers with a normalised email and returns 201 {user:{id,email}}', async () => {
    const response = await post(server.app, '/auth/register', {
      email: '  Grace.Hopper@Navy.MIL ',
      password: PASSWORD,
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ user: { id: expect.any(String), email: 'Grace.Hopper@navy.mil' } });
  });

  it('logs in, reports the session, and refuses it after logout', async () => {
    const { token, email } = await registerAndLogin(server.app);
    const session = await get('/auth/session', token);
    expect(session.statusCode).toBe(200);
    const body = session.json();
    expect(body.user).toEqual({ id: expect.any(String), email, roles: [], emailVerified: false });
    expect(body.session).toMatchObject({ id: token.split('.')[0], mode: 'session' });
    expect(Date.parse(body.session.expiresAt)).toBeGreaterThan(server.clock.now());

    const logout = await server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: withSession(token),
    });
    expect(logout.statusCode).toBe(204);
    expect(logout.cookies.find((c) => c.name === '__Host-tessera_session')?.value).toBe('');
    const replay = await get('/auth/session', token);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toBe('unauthenticated');
  });

  it('accepts the session token as a bearer credential for non-browser clients', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    expect(login.statusCode).toBe(200);
    expect(sessionCookieOf(login)).toBeUndefined();
    const { token } = login.json();
    const session = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(session.statusCode).toBe(200);
    // A token in the URL is never a credential.
    expect((await get(`/auth/session?token=${encodeURIComponent(token)}`)).statusCode).toBe(401);
  });

  it('lists own devices with labels, marks the current one, and ends one by id', async () => {
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    const { email, token: laptop } = await registerAndLogin(server.app, newEmail(), PASSWORD, {
      'user-agent': firefox,
    });
    const phone = sessionCookieOf(
      await post(server.app, '/auth/login', { email, password: PASSWORD }, { 'user-agent': iphone }),
    ) as string;

    const list = await get('/auth/sessions', laptop);
    expect(list.statusCode).toBe(200);
    const sessions = list.json().sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.find((s: { current: boolean }) => s.current)).toMatchObject({
      id: laptop.split('.')[0],
      device: 'Firefox 128 on Linux',
      ip: '127.0.0.1',
    });
    expect(sessions.find((s: { current: boolean }) => !s.current)).toMatchObject({
      id: phone.split('.')[0],
      device: 'Safari 17 on iOS 17',
    });
    for (const s of sessions)
      expect(Object.keys(s).sort()).toEqual([
        'createdAt',
        'current',
        'device',
        'expiresAt',
        'id',
        'ip',
        'lastSeenAt',
      ]);

    const end = await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${phone.split('.')[0]}`,
      headers: withSession(laptop),
    });
    expect(end.statusCode).toBe(204);
    expect((await get('/auth/session', phone)).statusCode).toBe(401);
    expect((await get('/auth/session', laptop)).statusCode).toBe(200);
  });

  it("cannot end another user's session: 404, and that session lives on", async () => {
    const alice = await registerAndLogin(server.app);
    const bob = await registerAndLogin(server.app);
    const attempt = await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${bob.token.split('.')[0]}`,
      headers: withSession(alice.token),
    });
    expect(attempt.statusCode).toBe(404);
    expect(attempt.json().error).toBe('session_not_found');
    expect((await get('/auth/session', bob.token)).statusCode).toBe(200);
  });

  it('logout-all ends every session of the user and no one else', async () => {
    const alice = await registerAndLogin(server.app);
    const second = sessionCookieOf(
      await post(server.app, '/auth/login', { email: alice.email, password: PASSWORD }),
    ) as string;
    const bob = await registerAndLogin(server.app);
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/logout-all',
      headers: withSession(alice.token),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ revoked: 2, revokedApiKeys: 0 });
    expect((await get('/auth/session', alice.token)).statusCode).toBe(401);
    expect((await get('/auth/session', second)).statusCode).toBe(401);
    expect((await get('/auth/session', bob.token)).statusCode).toBe(200);
  });

  it('changes the password: other sessions end, this one continues under a new token', async () => {
    const { email, token } = await registerAndLogin(server.app);
    const other = sessionCookieOf(
      await post(server.app, '/auth/login', { email, password: PASSWORD }),
    ) as string;
    const newPassword = 'a brand new passphrase';

    const wrong = await post(
      server.app,
      '/auth/password',
      { currentPassword: 'not my password', newPassword },
      withSession(token),
    );
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error).toBe('invalid_current_password');
    expect((await get('/auth/session', other)).statusCode).toBe(200);

    const weak = await post(
      server.app,
      '/auth/password',
      { currentPassword: PASSWORD, newPassword: 'password1' },
      withSession(token),
    );
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).toBe('password_too_common');

    const change = await post(
      server.app,
      '/auth/password',
      { currentPassword: PASSWORD, newPassword },
      withSession(token),
    );
    expect(change.statusCode).toBe(200);
    expect(change.json()).toEqual({ revokedOtherSessions: 1 });
    const rotated = sessionCookieOf(change) as string;
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(token);
    expect(rotated.split('.')[0]).toBe(token.split('.')[0]);

    expect((await get('/auth/session', token)).statusCode).toBe(401);
    expect((await get('/auth/session', other)).statusCode).toBe(401);
    expect((await get('/auth/session', rotated)).statusCode).toBe(200);
    expect((await post(server.app, '/auth/login', { email, password: PASSWORD })).statusCode).toBe(401);
    expect((await post(server.app, '/auth/login', { email, password: newPassword })).statusCode).toBe(200);
  });

  it('rejects weak and malformed registrations with a code that says what to fix', async () => {
    const cases: Array<[unknown, string]> = [
      [{ email: 'not-an-email', password: PASSWORD }, 'invalid_email'],
      [{ email: newEmail(), password: 'short' }, 'password_too_short'],
      [{ email: newEmail(), password: 'x'.repeat(1025) }, 'password_too_long'],
      [{ email: newEmail(), password: 'Password123' }, 'password_too_common'],
      [{ email: 'margaret@example.com', password: 'margaret@example.com' }, 'password_matches_email'],
      [{ email: newEmail() }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const response = await post(server.app, '/auth/register', body);
      expect(response.statusCode, code).toBe(400);
      expect(response.json()).toEqual({ error: code, message: expect.stringMatching(/\w/) });
    }
  });

  it('counts password length in characters after NFKC, so the same passphrase matches on any keyboard', async () => {
    const email = newEmail();
    // Full-width digits and letters are NFKC-equivalent to ASCII ones.
    const fullWidth = 'ｔｅｓｓｅｒａ ｍｏｓａｉｃ ２０２６';
    expect((await post(server.app, '/auth/register', { email, password: fullWidth })).statusCode).toBe(201);
    expect(
      (await post(server.app, '/auth/login', { email, password: 'tessera mosaic 2026' })).statusCode,
    ).toBe(200);
    // Eight emoji are eight characters (sixteen UTF-16 units): accepted.
    expect(
      (await post(server.app, '/auth/register', { email: newEmail(), password: '🦊🦊🦊🦊🦊🦊🦊🐻' }))
        .statusCode,
    ).toBe(201);
    expect(
      (await post(server.app, '/auth/register', { email: newEmail(), password: '🦊🦊🦊🦊🦊🦊🐻' })).json()
        .error,
    ).toBe('password_too_short');
  });

  it('refuses a duplicate registration with 409 email_taken', async () => {
    const email = newEmail();
    expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
    const again = await post(server.app, '/auth/register', { email, password: PASSWORD });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('email_taken');
  });

  it('serves /healthz with 200 while the store answers', async () => {
    const response = await get('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', store: 'sqlite' });
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('health when the store is gone', () => {
  it('answers 503 store_unavailable', async () => {
    const local = await startTessera();
    await local.tessera.stores.close();
    const response = await local.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('store_unavailable');
    await local.app.close();
  });
});
