import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { linkParts, TestSmtpServer } from './smtp.js';

/**
 * Every email flow end to end, in every mode: Tessera sends through nodemailer to a real SMTP
 * server on a loopback port, and each step follows the link taken from the received message.
 */

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const NEW_PASSWORD = 'a brand new passphrase 42';

describe.each(['session', 'jwt', 'hybrid'] as const)('email flows in %s mode', (mode) => {
  let smtp: TestSmtpServer;
  let server: TestServer;

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    server = await startTessera({
      env: {
        TESSERA_MODE: mode,
        TESSERA_SMTP_URL: smtpUrl,
        TESSERA_MAIL_FROM: 'Example Bank <no-reply@bank.example>',
        TESSERA_PUBLIC_URL: 'https://auth.bank.example',
      },
    });
    server.tessera.email.delivery.start((error) => console.error(error));
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.stop();
  });

  interface Login {
    bearer: string;
    refreshToken?: string;
  }

  const login = async (email: string, password: string, userAgent = FIREFOX) =>
    post(server.app, '/auth/login', { email, password, transport: 'bearer' }, { 'user-agent': userAgent });

  const loginOk = async (email: string, password: string, userAgent = FIREFOX): Promise<Login> => {
    const response = await login(email, password, userAgent);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    return { bearer: body.token ?? body.accessToken, refreshToken: body.refreshToken };
  };

  const session = (credential: Login) =>
    server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { authorization: `Bearer ${credential.bearer}` },
    });

  /** The old login is refused: at once (session, hybrid), or its refresh at once and its access token at expiry (jwt). */
  const expectEnded = async (credential: Login) => {
    if (mode === 'jwt') {
      const refreshed = await post(server.app, '/auth/refresh', { refreshToken: credential.refreshToken });
      expect(refreshed.statusCode).toBe(401);
      server.clock.advance(
        server.tessera.config.jwt.accessTokenTtlMs + server.tessera.config.jwt.clockSkewMs + 1000,
      );
    }
    expect((await session(credential)).statusCode).toBe(401);
  };

  const register = async () => {
    const email = newEmail();
    const response = await post(server.app, '/auth/register', { email, password: PASSWORD });
    expect(response.statusCode, response.body).toBe(201);
    return email;
  };

  const errorOf = (response: LightMyRequestResponse) => ({
    status: response.statusCode,
    error: response.json().error,
  });

  it('registration mails a verification link; the page changes nothing; the POST verifies once', async () => {
    const email = await register();
    const mail = await smtp.waitFor(email, /Confirm your email address/);
    expect(mail.parsed.from?.value[0]).toMatchObject({
      name: 'Example Bank',
      address: 'no-reply@bank.example',
    });
    expect(mail.html).toContain('https://auth.bank.example/auth/verify-email?token=');
    const { path, token } = linkParts(mail.link);
    expect(path).toBe('/auth/verify-email');
    expect(mail.link.startsWith('https://auth.bank.example/')).toBe(true);

    const credential = await loginOk(email, PASSWORD);
    expect((await session(credential)).json().user.emailVerified).toBe(false);

    // What a mail scanner does: fetch the link. The page answers, nothing changes.
    const page = await server.app.inject({
      method: 'GET',
      url: `${path}?token=${encodeURIComponent(token)}`,
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toContain(token);
    expect((await session(credential)).json().user.emailVerified).toBe(false);

    const verified = await post(server.app, '/auth/email/verify', { token });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().user).toMatchObject({ email, emailVerified: true });
    expect((await session(credential)).json().user.emailVerified).toBe(true);
    expect(errorOf(await post(server.app, '/auth/email/verify', { token }))).toEqual({
      status: 400,
      error: 'token_used',
    });
  });

  it('forgot password → link → reset: policy first, every login ended, old password refused, link single-use', async () => {
    const email = await register();
    const before = await loginOk(email, PASSWORD);
    // An API key belongs to its user: a reset ends it with every login (docs/SECURITY.md).
    const created = await server.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: { authorization: `Bearer ${before.bearer}` },
      payload: { name: 'export', scopes: ['accounts:read'], password: PASSWORD },
    });
    expect(created.statusCode, created.body).toBe(201);
    const apiKey = created.json().key as string;
    expect(await server.tessera.oauth.apiKeys.verify(apiKey)).toBeDefined();
    const accepted = await post(server.app, '/auth/password/forgot', { email });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.body).toBe('{}');
    const mail = await smtp.waitFor(email, /Reset your password/);
    const { path, token } = linkParts(mail.link);
    expect(path).toBe('/auth/reset-password');

    // A refused password leaves the link usable.
    const weak = await post(server.app, '/auth/password/reset', { token, newPassword: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).not.toMatch(/^token_/);
    for (const bad of [
      '',
      'x',
      token.slice(0, -1),
      `${token}x`,
      `${token.split('.')[0]}.${'A'.repeat(43)}`,
    ]) {
      const refused = await post(server.app, '/auth/password/reset', {
        token: bad,
        newPassword: NEW_PASSWORD,
      });
      expect(refused.statusCode, bad).toBe(400);
      expect(['token_invalid', 'invalid_request']).toContain(refused.json().error);
    }

    const reset = await post(server.app, '/auth/password/reset', { token, newPassword: NEW_PASSWORD });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json().revokedSessions).toBeGreaterThanOrEqual(1);
    await expectEnded(before);
    expect(await server.tessera.oauth.apiKeys.verify(apiKey)).toBeUndefined();
    expect((await login(email, PASSWORD)).statusCode).toBe(401);
    await loginOk(email, NEW_PASSWORD);
    expect(
      errorOf(
        await post(server.app, '/auth/password/reset', { token, newPassword: 'another fine passphrase' }),
      ),
    ).toEqual({
      status: 400,
      error: 'token_used',
    });
    const audit = await server.tessera.audit.list({ type: 'password.reset' });
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(audit)).not.toContain(token.split('.')[1]);
  });

  it('a reset link expires after 15 minutes, and a newer link ends the older one', async () => {
    const email = await register();
    const count = smtp.received.length;
    await post(server.app, '/auth/password/forgot', { email });
    const first = linkParts((await smtp.waitFor(email, /Reset your password/, count)).link).token;
    const count2 = smtp.received.length;
    await post(server.app, '/auth/password/forgot', { email });
    const second = linkParts((await smtp.waitFor(email, /Reset your password/, count2)).link).token;
    expect(second).not.toBe(first);
    expect(
      errorOf(await post(server.app, '/auth/password/reset', { token: first, newPassword: NEW_PASSWORD })),
    ).toEqual({
      status: 400,
      error: 'token_used',
    });
    server.clock.advance(15 * 60_000 + 1);
    expect(
      errorOf(await post(server.app, '/auth/password/reset', { token: second, newPassword: NEW_PASSWORD })),
    ).toEqual({
      status: 400,
      error: 'link_expired',
    });
    await loginOk(email, PASSWORD);
  });

  it('email change: confirmed by the new address, notice and undo to the old one', async () => {
    const email = await register();
    const credential = await loginOk(email, PASSWORD);
    const newAddress = newEmail();
    const auth = { authorization: `Bearer ${credential.bearer}` };
    const wrong = await post(
      server.app,
      '/auth/email/change',
      { newEmail: newAddress, password: 'wrong password!' },
      auth,
    );
    expect(wrong.statusCode).toBe(403);
    const asked = await post(
      server.app,
      '/auth/email/change',
      { newEmail: newAddress, password: PASSWORD },
      auth,
    );
    expect(asked.statusCode, asked.body).toBe(202);
    const confirmMail = await smtp.waitFor(newAddress, /Confirm your new email address/);
    const { path, token } = linkParts(confirmMail.link);
    expect(path).toBe('/auth/confirm-email');
    const confirmed = await post(server.app, '/auth/email/change/confirm', { token });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json().user).toMatchObject({ email: newAddress, emailVerified: true });
    expect((await login(email, PASSWORD)).statusCode).toBe(401);
    await loginOk(newAddress, PASSWORD);

    const notice = await smtp.waitFor(email, /email address was changed/);
    expect(notice.text).toContain(newAddress);
    const undo = linkParts(notice.link);
    expect(undo.path).toBe('/auth/undo-email-change');
    const undone = await post(server.app, '/auth/email/change/undo', { token: undo.token });
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json().user.email).toBe(email);
    await expectEnded(credential);
    await loginOk(email, PASSWORD);
  });

  it('email change: the new address is checked for uniqueness when the link is followed', async () => {
    const email = await register();
    const credential = await loginOk(email, PASSWORD);
    const target = newEmail();
    await post(
      server.app,
      '/auth/email/change',
      { newEmail: target, password: PASSWORD },
      { authorization: `Bearer ${credential.bearer}` },
    );
    const { token } = linkParts((await smtp.waitFor(target, /Confirm your new email address/)).link);
    // Someone registers the address meanwhile.
    expect((await post(server.app, '/auth/register', { email: target, password: PASSWORD })).statusCode).toBe(
      201,
    );
    expect(errorOf(await post(server.app, '/auth/email/change/confirm', { token }))).toEqual({
      status: 409,
      error: 'email_taken',
    });
    await loginOk(email, PASSWORD);
  });

  it('a sign-in from a new device mails an alert; "this wasn\'t me" locks and ends every login; a reset by email unlocks', async () => {
    const email = await register();
    const first = await loginOk(email, PASSWORD, FIREFOX);
    const count = smtp.received.length;
    await loginOk(email, PASSWORD, FIREFOX);
    const intruder = await loginOk(email, PASSWORD, CHROME);
    const alert = await smtp.waitFor(email, /New sign-in/, count);
    expect(alert.text).toMatch(/Chrome 131 on Windows/);
    expect(alert.text).toContain('127.0.0.1');
    expect(
      smtp.received.slice(count).filter((m) => m.to.includes(email) && /New sign-in/.test(m.subject)),
    ).toHaveLength(1);
    const { path, token } = linkParts(alert.link);
    expect(path).toBe('/auth/not-me');

    const locked = await post(server.app, '/auth/not-me', { token });
    expect(locked.statusCode, locked.body).toBe(200);
    expect(locked.json()).toMatchObject({ locked: true });
    await expectEnded(intruder);
    expect((await session(first)).statusCode).toBe(401);
    expect((await login(email, PASSWORD, CHROME)).statusCode).toBe(401);
    const audit = await server.tessera.audit.list({ type: 'account.not_me' });
    expect(audit.some((e) => e.ip === '127.0.0.1')).toBe(true);

    const resetCount = smtp.received.length;
    await post(server.app, '/auth/password/forgot', { email });
    const reset = linkParts((await smtp.waitFor(email, /Reset your password/, resetCount)).link);
    const done = await post(server.app, '/auth/password/reset', {
      token: reset.token,
      newPassword: NEW_PASSWORD,
      signIn: true,
      transport: 'bearer',
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().session.id).toEqual(expect.any(String));
    await loginOk(email, NEW_PASSWORD, FIREFOX);
  });

  it("a reset by email never lifts an admin's lock, and a not-me link keeps the admin's reason", async () => {
    const email = await register();
    await loginOk(email, PASSWORD, FIREFOX);
    const count = smtp.received.length;
    await loginOk(email, PASSWORD, CHROME);
    const alert = linkParts((await smtp.waitFor(email, /New sign-in/, count)).link);
    const user = await server.tessera.accounts.findByEmail(email);
    await server.tessera.control.lockUser(user?.id as string, 'fraud review', {
      actorId: null,
      client: { ip: 'cli', userAgent: 'test' },
    });
    expect((await post(server.app, '/auth/not-me', { token: alert.token })).statusCode).toBe(200);
    expect((await server.tessera.accounts.findByEmail(email))?.lockReason).toBe('fraud review');
    const resetCount = smtp.received.length;
    await post(server.app, '/auth/password/forgot', { email });
    const reset = linkParts((await smtp.waitFor(email, /Reset your password/, resetCount)).link);
    const done = await post(server.app, '/auth/password/reset', {
      token: reset.token,
      newPassword: NEW_PASSWORD,
      signIn: true,
      transport: 'bearer',
    });
    expect(done.statusCode, done.body).toBe(200);
    // Asked to sign in, but the account is locked: no login is opened.
    expect(done.json()).toEqual({ revokedSessions: expect.any(Number) });
    expect((await server.tessera.accounts.findByEmail(email))?.lockedAt).not.toBeNull();
    expect((await login(email, NEW_PASSWORD)).statusCode).toBe(401);
  });
});
