import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-process.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer, tempDir, withSession } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';
import { TestSmtpServer } from './smtp.js';

/** Operators see verified state and the outbox (admin API, CLI) and can resend a verification. */

let smtp: TestSmtpServer;
let server: TestServer;
let database: string;
let adminToken: string;

beforeAll(async () => {
  smtp = new TestSmtpServer();
  database = `sqlite://${join(tempDir(), 'admin.db')}`;
  server = await startTessera({
    env: { TESSERA_SMTP_URL: await smtp.start(), TESSERA_DATABASE_URL: database },
  });
  server.tessera.email.delivery.start(() => undefined);
  const adminEmail = newEmail();
  await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
  // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
  const login = await loginWithSecondFactor(server.app, {
    email: adminEmail,
    password: PASSWORD,
    transport: 'bearer',
  });
  adminToken = login.json().token;
});

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

const asAdmin = (method: 'GET' | 'POST', url: string) =>
  server.app.inject({ method, url, headers: { authorization: `Bearer ${adminToken}` } });

describe('admin API', () => {
  it('lists users with their verified state, resends a verification, and shows the outbox without links', async () => {
    const email = newEmail();
    const registered = await post(server.app, '/auth/register', { email, password: PASSWORD });
    const userId = registered.json().user.id;
    const first = await smtp.waitFor(email, /Confirm your email/);

    const users = (await asAdmin('GET', '/admin/api/users')).json().users;
    expect(users.find((u: { id: string }) => u.id === userId)).toMatchObject({ email, emailVerified: false });

    const count = smtp.received.length;
    const resent = await asAdmin('POST', `/admin/api/users/${userId}/verification`);
    expect(resent.statusCode).toBe(202);
    expect(resent.json()).toEqual({ sent: true, emailVerified: false });
    const second = await smtp.waitFor(email, /Confirm your email/, count);
    expect(second.link).not.toBe(first.link);
    // The newer link replaced the older one.
    const oldToken = new URL(first.link).searchParams.get('token');
    expect((await post(server.app, '/auth/email/verify', { token: oldToken })).json().error).toBe(
      'token_used',
    );
    const token = new URL(second.link).searchParams.get('token');
    expect((await post(server.app, '/auth/email/verify', { token })).statusCode).toBe(200);
    const after = (await asAdmin('GET', '/admin/api/users')).json().users;
    expect(after.find((u: { id: string }) => u.id === userId).emailVerified).toBe(true);
    expect((await asAdmin('POST', `/admin/api/users/${userId}/verification`)).json()).toEqual({
      sent: false,
      emailVerified: true,
    });

    await server.tessera.email.delivery.idle();
    const outbox = await asAdmin('GET', '/admin/api/mail/outbox?limit=50');
    expect(outbox.statusCode).toBe(200);
    const mine = outbox.json().mail.filter((m: { to: string }) => m.to === email);
    expect(mine).toHaveLength(2);
    for (const m of mine)
      expect(m).toMatchObject({ kind: 'verify', status: 'sent', attempts: 0, lastError: null });
    expect(outbox.body).not.toContain('token=');
    expect((await asAdmin('GET', '/admin/api/mail/outbox?status=bogus')).statusCode).toBe(400);
  });

  it('is for admins only', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    const token = login.cookies.find((c) => c.name === '__Host-tessera_session')?.value as string;
    const refused = await server.app.inject({
      method: 'GET',
      url: '/admin/api/mail/outbox',
      headers: withSession(token),
    });
    expect(refused.statusCode).toBe(403);
    expect((await server.app.inject({ method: 'GET', url: '/admin/api/mail/outbox' })).statusCode).toBe(401);
  });
});

describe('CLI', () => {
  it('tessera mail outbox and tessera users list show the outbox and verified state', async () => {
    const env = { TESSERA_DATABASE_URL: database, TESSERA_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` };
    const outbox = await runCli(['mail', 'outbox', '--limit', '5'], env);
    expect(outbox.code, outbox.stderr).toBe(0);
    expect(outbox.stdout).toMatch(/\tsent\tverify\tto=\S+@example\.com\tattempts=0\tcreated=/);
    expect(outbox.stdout).not.toContain('token=');
    const users = await runCli(['users', 'list'], env);
    expect(users.code, users.stderr).toBe(0);
    expect(users.stdout).toMatch(/email=verified/);
    expect(users.stdout).toMatch(/email=unverified/);
    const vouched = await runCli(
      ['users', 'create', '--email', 'ops.vouched@example.com', '--email-verified'],
      env,
      `${PASSWORD}\n`,
    );
    expect(vouched.code, vouched.stderr).toBe(0);
    expect((await runCli(['users', 'list'], env)).stdout).toMatch(
      /ops\.vouched@example\.com\t.*\temail=verified/,
    );
    const bad = await runCli(['mail', 'outbox', '--status', 'lost'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--status must be pending, sent or failed/);
  });
});
