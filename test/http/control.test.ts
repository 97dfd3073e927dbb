import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

type Mode = 'session' | 'jwt' | 'hybrid';
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

async function start(mode: Mode): Promise<TestServer> {
  const server = await startTessera({ env: { TESSERA_MODE: mode } });
  servers.push(server);
  return server;
}

/** A device: a bearer-transport login (no cookies, so no CSRF token is involved). */
async function login(app: FastifyInstance, email: string) {
  // An admin enrols an authenticator app at first login and types its codes (TESSERA_MFA_REQUIRED_ROLES).
  const response = await loginWithSecondFactor(app, { email, password: PASSWORD, transport: 'bearer' });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return {
    userId: body.user.id as string,
    sessionId: body.session.id as string,
    headers: { authorization: `Bearer ${body.token ?? body.accessToken}` },
    refreshToken: body.refreshToken as string | undefined,
  };
}

async function user(server: TestServer, roles: string[] = []) {
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  return email;
}

const whoAmI = (app: FastifyInstance, device: { headers: Record<string, string> }) =>
  app.inject({ method: 'GET', url: '/auth/session', headers: device.headers });

describe.each<Mode>(['session', 'jwt', 'hybrid'])('the bank scenario in %s mode', (mode) => {
  it('locking a customer ends both devices (jwt: within one access-token lifetime); others stay in', async () => {
    const server = await start(mode);
    const { app } = server;
    const adminEmail = await user(server, ['admin']);
    const admin = await login(app, adminEmail);
    const customerEmail = await user(server);
    const [phone, laptop] = [await login(app, customerEmail), await login(app, customerEmail)];
    const bystander = await login(app, await user(server));

    const lock = await app.inject({
      method: 'POST',
      url: `/admin/api/users/${phone.userId}/lock`,
      headers: admin.headers,
      payload: { reason: 'card reported stolen' },
    });
    expect(lock.statusCode, lock.body).toBe(200);
    // jwt mode says how long a locked user may go on at apps that verify tokens alone.
    expect(lock.json()).toEqual({
      revokedSessions: 2,
      ...(mode === 'jwt'
        ? { appliesAt: 'access_token_expiry', maxDelaySeconds: 300 }
        : { appliesAt: 'next_request' }),
    });

    if (mode === 'jwt') {
      // The documented price of pure JWTs: the access tokens live out their lifetime...
      expect((await whoAmI(app, phone)).statusCode).toBe(200);
      server.clock.advance(5 * 60_000 + 60_001);
      // ...but no refresh can extend them.
      const refresh = await post(app, '/auth/refresh', { refreshToken: phone.refreshToken });
      expect(refresh.statusCode).toBe(401);
    }
    for (const device of [phone, laptop]) {
      const refused = await whoAmI(app, device);
      expect(refused.statusCode).toBe(401);
    }
    const relogin = await post(app, '/auth/login', { email: customerEmail, password: PASSWORD });
    expect(relogin.json().error).toBe('invalid_credentials');
    if (mode !== 'jwt') expect((await whoAmI(app, bystander)).statusCode).toBe(200);

    const events = await server.tessera.audit.list({ userId: phone.userId, type: 'user.locked' });
    expect(events[0]).toMatchObject({ actorId: admin.userId, userId: phone.userId });

    // Unlocking lets the customer log in again (the admin logs in afresh: jwt mode moved the clock).
    const admin2 = await login(app, adminEmail);
    const unlock = await app.inject({
      method: 'POST',
      url: `/admin/api/users/${phone.userId}/unlock`,
      headers: admin2.headers,
    });
    expect(unlock.statusCode).toBe(204);
    expect((await post(app, '/auth/login', { email: customerEmail, password: PASSWORD })).statusCode).toBe(
      200,
    );
  });

  it("removing an admin's role: the control plane refuses at once; tokens follow the mode's bound", async () => {
    const server = await start(mode);
    const { app } = server;
    const root = await login(app, await user(server, ['admin']));
    const deputy = await login(app, await user(server, ['admin']));
    const listUsers = (device: { headers: Record<string, string> }) =>
      app.inject({ method: 'GET', url: '/admin/api/users', headers: device.headers });
    expect((await listUsers(deputy)).statusCode).toBe(200);

    const change = await app.inject({
      method: 'PUT',
      url: `/admin/api/users/${deputy.userId}/roles`,
      headers: root.headers,
      payload: { roles: ['teller'] },
    });
    expect(change.statusCode).toBe(200);
    expect(change.json()).toEqual(
      mode === 'jwt'
        ? { roles: ['teller'], appliesAt: 'next_refresh', maxDelaySeconds: 300 }
        : { roles: ['teller'], appliesAt: 'next_request' },
    );
    // The admin API reads the stored roles in every mode (hybrid refuses the token itself first).
    expect((await listUsers(deputy)).json().error).toBe(mode === 'hybrid' ? 'token_revoked' : 'forbidden');

    const seen = await whoAmI(app, deputy);
    if (mode === 'session') expect(seen.json().user.roles).toEqual(['teller']);
    if (mode === 'jwt') expect(seen.json().user.roles).toEqual(['admin']);
    if (mode === 'hybrid') expect(seen.json().error).toBe('token_revoked');
    if (mode !== 'session') {
      // A refresh carries the new roles, and the new token is not caught by the revocation.
      const refreshed = (await post(app, '/auth/refresh', { refreshToken: deputy.refreshToken })).json();
      const after = await whoAmI(app, { headers: { authorization: `Bearer ${refreshed.accessToken}` } });
      expect(after.statusCode).toBe(200);
      expect(after.json().user.roles).toEqual(['teller']);
    }
    expect((await whoAmI(app, root)).statusCode).toBe(200);
  });
});

describe('the control plane API', () => {
  it('needs the admin role: 401 without a login, 403 without the role', async () => {
    const server = await start('session');
    const customer = await login(server.app, await user(server));
    expect((await server.app.inject({ method: 'GET', url: '/admin/api/sessions' })).statusCode).toBe(401);
    const forbidden = await server.app.inject({
      method: 'GET',
      url: '/admin/api/sessions',
      headers: customer.headers,
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toBe('forbidden');
  });

  it('shows who is logged in, filters by user, revokes one session or all of a user', async () => {
    const server = await start('hybrid');
    const { app } = server;
    const admin = await login(app, await user(server, ['admin']));
    const aliceEmail = await user(server);
    const [a1, a2] = [await login(app, aliceEmail), await login(app, aliceEmail)];
    const bob = await login(app, await user(server));

    const all = (
      await app.inject({ method: 'GET', url: '/admin/api/sessions', headers: admin.headers })
    ).json();
    expect(all.sessions.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining([a1.sessionId, a2.sessionId, bob.sessionId, admin.sessionId]),
    );
    const alices = (
      await app.inject({
        method: 'GET',
        url: `/admin/api/sessions?user=${encodeURIComponent(aliceEmail)}`,
        headers: admin.headers,
      })
    ).json().sessions;
    expect(alices).toHaveLength(2);
    expect(alices[0]).toMatchObject({
      email: aliceEmail,
      mode: 'hybrid',
      device: expect.any(String),
      ip: '127.0.0.1',
    });

    const one = await app.inject({
      method: 'DELETE',
      url: `/admin/api/sessions/${a1.sessionId}`,
      headers: admin.headers,
    });
    expect(one.statusCode).toBe(204);
    expect((await whoAmI(app, a1)).json().error).toBe('token_revoked');
    expect((await whoAmI(app, a2)).statusCode).toBe(200);
    const rest = await app.inject({
      method: 'DELETE',
      url: `/admin/api/users/${a2.userId}/sessions`,
      headers: admin.headers,
    });
    expect(rest.json()).toEqual({ revoked: 1, appliesAt: 'next_request' });
    expect((await whoAmI(app, a2)).statusCode).toBe(401);
    expect((await whoAmI(app, bob)).statusCode).toBe(200);
    const missing = await app.inject({
      method: 'DELETE',
      url: `/admin/api/sessions/${a1.sessionId}`,
      headers: admin.headers,
    });
    expect(missing.json().error).toBe('session_not_found');
  });

  it('logs everyone out (the global epoch), the admin included; new logins work', async () => {
    const server = await start('hybrid');
    const { app } = server;
    const adminEmail = await user(server, ['admin']);
    const admin = await login(app, adminEmail);
    const alice = await login(app, await user(server));
    const response = await app.inject({
      method: 'POST',
      url: '/admin/api/logout-everyone',
      headers: admin.headers,
    });
    expect(response.json().revoked).toBeGreaterThanOrEqual(2);
    expect((await whoAmI(app, alice)).json().error).toBe('token_revoked');
    expect((await whoAmI(app, admin)).statusCode).toBe(401);
    // A login in the same second as the epoch is not caught by it.
    const again = await login(app, adminEmail);
    expect((await whoAmI(app, again)).statusCode).toBe(200);
  });

  it('refuses bad input with stable codes and cannot lock oneself', async () => {
    const server = await start('session');
    const { app } = server;
    const admin = await login(app, await user(server, ['admin']));
    const target = await login(app, await user(server));
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', `/admin/api/users/${admin.userId}/lock`, { reason: 'oops' }, 400, 'cannot_lock_self'],
      ['POST', `/admin/api/users/${target.userId}/lock`, {}, 400, 'invalid_request'],
      ['POST', '/admin/api/users/nobody/lock', { reason: 'x' }, 404, 'user_not_found'],
      ['PUT', `/admin/api/users/${target.userId}/roles`, { roles: ['Admin!'] }, 400, 'invalid_roles'],
      ['PUT', `/admin/api/users/${target.userId}/roles`, { roles: 'admin' }, 400, 'invalid_request'],
      ['GET', '/admin/api/keys', undefined, 409, 'not_in_token_mode'],
      ['GET', '/admin/api/audit?limit=0', undefined, 400, 'invalid_request'],
    ];
    for (const [method, url, payload, status, code] of cases) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers: admin.headers,
        payload: payload as object,
      });
      expect(response.statusCode, `${method} ${url}`).toBe(status);
      expect(response.json().error, `${method} ${url}`).toBe(code);
    }
  });

  it('keeps an audit log of auth events with actor, subject, IP and user agent, and no secret', async () => {
    const server = await start('jwt');
    const { app } = server;
    const admin = await login(app, await user(server, ['admin']));
    const email = await user(server);
    await post(app, '/auth/login', { email, password: 'wrong password!!' }, { 'user-agent': 'curl/8.5.0' });
    const device = await login(app, email);
    await post(app, '/auth/refresh', { refreshToken: device.refreshToken });
    await app.inject({ method: 'POST', url: '/auth/logout', headers: device.headers });
    await app.inject({ method: 'POST', url: '/admin/api/keys/rotate', headers: admin.headers });

    const { events } = (
      await app.inject({ method: 'GET', url: '/admin/api/audit?limit=50', headers: admin.headers })
    ).json();
    const types = events.map((e: { type: string }) => e.type);
    for (const type of ['login.failed', 'login.succeeded', 'token.refreshed', 'logout', 'key.rotated']) {
      expect(types, type).toContain(type);
    }
    const failed = events.find((e: { type: string }) => e.type === 'login.failed');
    expect(failed).toMatchObject({ ip: '127.0.0.1', userAgent: 'curl/8.5.0', detail: { email } });
    const serialized = JSON.stringify(events);
    expect(serialized).not.toContain(PASSWORD);
    expect(serialized).not.toContain('wrong password!!');
    expect(serialized).not.toContain(device.headers.authorization.slice(7));
    expect(serialized).not.toContain(device.refreshToken);
    const byUser = (
      await app.inject({
        method: 'GET',
        url: `/admin/api/audit?user=${encodeURIComponent(email)}&type=logout`,
        headers: admin.headers,
      })
    ).json().events;
    expect(byUser).toHaveLength(1);
  });
});

describe('what the console reads', () => {
  it.each<Mode>(['session', 'jwt'])(
    '%s mode: audit events name the acting admin and the subject by email; settings give the timeouts',
    async (mode) => {
      const server = await start(mode);
      const adminEmail = await user(server, ['admin']);
      const admin = await login(server.app, adminEmail);
      const customerEmail = await user(server);
      const customer = await server.tessera.accounts.findByEmail(customerEmail);
      const lock = await server.app.inject({
        method: 'POST',
        url: `/admin/api/users/${customer?.id}/lock`,
        headers: admin.headers,
        payload: { reason: 'card stolen' },
      });
      expect(lock.statusCode, lock.body).toBe(200);
      const { events } = (
        await server.app.inject({
          method: 'GET',
          url: '/admin/api/audit?type=user.locked',
          headers: admin.headers,
        })
      ).json();
      expect(events).toEqual([
        expect.objectContaining({
          type: 'user.locked',
          actorEmail: adminEmail,
          userEmail: customerEmail,
          detail: expect.objectContaining({ reason: 'card stolen' }),
        }),
      ]);
      const settings = await server.app.inject({
        method: 'GET',
        url: '/admin/api/settings',
        headers: admin.headers,
      });
      expect(settings.json()).toEqual({
        mode,
        sessionIdleTimeoutSeconds: 1800,
        sessionAbsoluteTimeoutSeconds: 43_200,
        accessTokenTtlSeconds: mode === 'session' ? null : 300,
        loginEnd:
          mode === 'jwt'
            ? { appliesAt: 'access_token_expiry', maxDelaySeconds: 300 }
            : { appliesAt: 'next_request' },
      });
    },
  );
});

describe('hybrid revocations in quick succession', () => {
  it('a lock right after a role change still catches the token refreshed in between', async () => {
    const server = await start('hybrid');
    const { app } = server;
    const admin = await login(app, await user(server, ['admin']));
    const device = await login(app, await user(server, ['teller']));
    await app.inject({
      method: 'PUT',
      url: `/admin/api/users/${device.userId}/roles`,
      headers: admin.headers,
      payload: { roles: [] },
    });
    const refreshed = (await post(app, '/auth/refresh', { refreshToken: device.refreshToken })).json();
    const fresh = { headers: { authorization: `Bearer ${refreshed.accessToken}` } };
    expect((await whoAmI(app, fresh)).statusCode).toBe(200);
    // Same instant on the manual clock: the worst case for whole-second iat.
    await app.inject({
      method: 'POST',
      url: `/admin/api/users/${device.userId}/lock`,
      headers: admin.headers,
      payload: { reason: 'x' },
    });
    expect((await whoAmI(app, fresh)).json().error).toBe('token_revoked');
  });
});
