import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { linkParts, TestSmtpServer } from './smtp.js';

/** TESSERA_REQUIRE_VERIFIED_EMAIL: unproven accounts get a distinct 403 the client can act on. */

let smtp: TestSmtpServer;
let server: TestServer;

beforeAll(async () => {
  smtp = new TestSmtpServer();
  server = await startTessera({
    env: { TESSERA_SMTP_URL: await smtp.start(), TESSERA_REQUIRE_VERIFIED_EMAIL: 'on', TESSERA_MODE: 'jwt' },
  });
  server.tessera.email.delivery.start(() => undefined);
});

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

describe('requiring a verified address', () => {
  it('refuses the login with 403 email_unverified (only after the password matched), resend, verify, then logs in', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const first = await smtp.waitFor(email, /Confirm your email/);

    const refused = await post(server.app, '/auth/login', { email, password: PASSWORD });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'email_unverified', message: expect.any(String) });
    expect(refused.headers['set-cookie']).toBeUndefined();
    // A wrong password says nothing about verification.
    const wrong = await post(server.app, '/auth/login', { email, password: 'not the password at all' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_credentials');

    const count = smtp.received.length;
    expect((await post(server.app, '/auth/email/verify/resend', { email })).statusCode).toBe(202);
    const second = await smtp.waitFor(email, /Confirm your email/, count);
    expect(second.link).not.toBe(first.link);
    expect(
      (await post(server.app, '/auth/email/verify', { token: linkParts(second.link).token })).statusCode,
    ).toBe(200);

    const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    expect(login.statusCode, login.body).toBe(200);
    const session = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { authorization: `Bearer ${login.json().accessToken}` },
    });
    expect(session.json().user.emailVerified).toBe(true);
  });

  it('is on by default in production only, and each setting can be given explicitly', () => {
    const base = { TESSERA_DATABASE_URL: 'memory:' };
    const production = { ...base, NODE_ENV: 'production', TESSERA_TRUSTED_PROXIES: '10.0.0.1' };
    expect(loadConfig(base).mail.requireVerifiedEmail).toBe(false);
    expect(loadConfig(production).mail.requireVerifiedEmail).toBe(true);
    expect(
      loadConfig({ ...production, TESSERA_REQUIRE_VERIFIED_EMAIL: 'off' }).mail.requireVerifiedEmail,
    ).toBe(false);
    expect(loadConfig(base).mail.publicUrl).toBe('http://localhost:3000');
    expect(loadConfig({ ...base, TESSERA_ISSUER: 'https://auth.example.com/' }).mail.publicUrl).toBe(
      'https://auth.example.com',
    );
    expect(() => loadConfig({ ...base, TESSERA_SMTP_URL: 'http://mail.example.com' })).toThrow(
      /^TESSERA_SMTP_URL must be smtp:/,
    );
    expect(() => loadConfig({ ...base, TESSERA_SMTP_URL: 'smtp://user:s3cret@' })).toThrow(
      /^TESSERA_SMTP_URL/,
    );
    // A refused URL is echoed without its password.
    const refused = (() => {
      try {
        loadConfig({ ...base, TESSERA_SMTP_URL: 'smtps://user:s3cret@mail.example.com:notaport' });
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    })();
    expect(refused).toMatch(/^TESSERA_SMTP_URL/);
    expect(refused).not.toContain('s3cret');
    expect(() => loadConfig({ ...base, TESSERA_MAIL_FROM: 'a\r\nBcc: x@example.com' })).toThrow(
      /^TESSERA_MAIL_FROM/,
    );
  });
});
