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

const sessionOf = (token: string) =>
  server.app.inject({ method: 'GET', url: '/auth/session', headers: withSession(token) });

describe('session fixation', () => {
  it('never adopts a session id the server did not issue', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    // An attacker plants a well-formed token of their choosing before the victim logs in.
    const planted = `${'A'.repeat(22)}.${'B'.repeat(43)}`;
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD }, withSession(planted));
    expect(login.statusCode).toBe(200);
    const issued = sessionCookieOf(login) as string;
    expect(issued.split('.')[0]).not.toBe(planted.split('.')[0]);
    expect((await sessionOf(planted)).statusCode).toBe(401);
    expect((await sessionOf(issued)).statusCode).toBe(200);
  });

  it('replaces a live pre-login session with a new one and ends the old one', async () => {
    // The attacker logs into their own account and plants that session in the victim's browser.
    const attacker = await registerAndLogin(server.app);
    const victimEmail = newEmail();
    await post(server.app, '/auth/register', { email: victimEmail, password: PASSWORD });
    const login = await post(
      server.app,
      '/auth/login',
      { email: victimEmail, password: PASSWORD },
      withSession(attacker.token),
    );
    const issued = sessionCookieOf(login) as string;
    expect(issued).not.toBe(attacker.token);
    expect((await sessionOf(attacker.token)).statusCode).toBe(401);
    const victimSession = await sessionOf(issued);
    expect(victimSession.json().user.email).toBe(victimEmail);
  });

  it('a failed login leaves the existing session alone', async () => {
    const alice = await registerAndLogin(server.app);
    const failed = await post(
      server.app,
      '/auth/login',
      { email: alice.email, password: 'wrong password here' },
      withSession(alice.token),
    );
    expect(failed.statusCode).toBe(401);
    expect((await sessionOf(alice.token)).statusCode).toBe(200);
  });

  it('a right id with a wrong secret is refused and does not end the real session', async () => {
    const alice = await registerAndLogin(server.app);
    const [id] = alice.token.split('.');
    expect((await sessionOf(`${id}.${'x'.repeat(43)}`)).statusCode).toBe(401);
    expect((await sessionOf(alice.token)).statusCode).toBe(200);
  });
});
