import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

/**
 * "When a login ends, everything it could do ends" (docs/SECURITY.md): API keys belong to their
 * user and end with every login of the user; an ended login can do nothing but, in jwt mode,
 * answer GET /auth/session from its token; creating a key needs the password again; the last
 * active admin is kept. Every mode, on SQLite (the store rules themselves run on every engine
 * in test/contract/store-contract.ts, "ending logins").
 */
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

const CLI = { actorId: null, client: { ip: 'cli', userAgent: 'cli' } };

/** A device: a bearer-transport login (no cookies, so no CSRF token is involved). */
async function login(app: FastifyInstance, email: string, password = PASSWORD) {
  // Admins enrol an authenticator app at first login and type its codes (TESSERA_MFA_REQUIRED_ROLES).
  const response = await loginWithSecondFactor(app, { email, password, transport: 'bearer' });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return {
    userId: body.user.id as string,
    sessionId: body.session.id as string,
    headers: { authorization: `Bearer ${body.token ?? body.accessToken}` },
  };
}
type Device = Awaited<ReturnType<typeof login>>;

async function user(server: TestServer, roles: string[] = []) {
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  return email;
}

const call = (app: FastifyInstance, device: Device, method: string, url: string, payload?: object) =>
  app.inject({ method: method as 'POST', url, headers: device.headers, ...(payload && { payload }) });

async function createKey(app: FastifyInstance, device: Device, scopes = ['accounts:read']) {
  const response = await call(app, device, 'POST', '/auth/api-keys', {
    name: 'nightly export',
    scopes,
    password: PASSWORD,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { key: string; apiKey: { id: string; scopes: string[] } };
}

/** Whether a resource server would accept the key (what introspection and the helper ask). */
const keyWorks = async (server: TestServer, key: string) =>
  (await server.tessera.oauth.apiKeys.verify(key)) !== undefined;

const auditDetail = async (server: TestServer, userId: string, type: string) => {
  const [event] = await server.tessera.audit.list({ userId, type, limit: 1 });
  return event && (JSON.parse(event.detail) as Record<string, unknown>);
};

describe.each<Mode>(['session', 'jwt', 'hybrid'])('when a login ends (%s mode)', (mode) => {
  describe('API keys belong to their user: whatever ends every login of the user ends them', () => {
    it("logout-all revokes the user's API keys (audited), not other users'", async () => {
      const server = await start(mode);
      const { app } = server;
      const email = await user(server);
      const device = await login(app, email);
      const { key } = await createKey(app, device);
      const other = await login(app, await user(server));
      const othersKey = (await createKey(app, other)).key;
      expect(await keyWorks(server, key)).toBe(true);

      const response = await call(app, device, 'POST', '/auth/logout-all');
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ revoked: 1, revokedApiKeys: 1 });
      expect(await keyWorks(server, key)).toBe(false);
      expect(await keyWorks(server, othersKey)).toBe(true);
      expect(await auditDetail(server, device.userId, 'logout.all')).toMatchObject({ revokedApiKeys: 1 });
    });

    it("a password change revokes the user's API keys (audited); the device that changed it stays in", async () => {
      const server = await start(mode);
      const { app } = server;
      const email = await user(server);
      const device = await login(app, email);
      const { key } = await createKey(app, device);
      const response = await call(app, device, 'POST', '/auth/password', {
        currentPassword: PASSWORD,
        newPassword: 'a different long passphrase 42',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(await keyWorks(server, key)).toBe(false);
      expect(await auditDetail(server, device.userId, 'password.changed')).toMatchObject({
        revokedApiKeys: 1,
      });
    });

    it('admin "end every login" of a user and "log everyone out" revoke API keys (audited)', async () => {
      const server = await start(mode);
      const { app, tessera } = server;
      const alice = await login(app, await user(server));
      const bob = await login(app, await user(server));
      const aliceKey = (await createKey(app, alice)).key;
      const bobKey = (await createKey(app, bob)).key;

      await tessera.control.revokeUserSessions(alice.userId, CLI);
      expect(await keyWorks(server, aliceKey)).toBe(false);
      expect(await keyWorks(server, bobKey)).toBe(true);
      expect(await auditDetail(server, alice.userId, 'logout.all')).toMatchObject({ revokedApiKeys: 1 });

      await tessera.control.logoutEveryone(CLI);
      expect(await keyWorks(server, bobKey)).toBe(false);
      const [everyone] = await tessera.audit.list({ type: 'logout.everyone', limit: 1 });
      expect(JSON.parse(everyone?.detail ?? '{}')).toMatchObject({ revokedApiKeys: 1 });
    });

    it('a lock revokes them for good: an unlock does not revive them', async () => {
      const server = await start(mode);
      const { app, tessera } = server;
      const email = await user(server);
      const device = await login(app, email);
      const { key, apiKey } = await createKey(app, device);

      await tessera.control.lockUser(device.userId, 'card reported stolen', CLI);
      expect(await keyWorks(server, key)).toBe(false);
      expect(await auditDetail(server, device.userId, 'user.locked')).toMatchObject({ revokedApiKeys: 1 });
      await tessera.control.unlockUser(device.userId, CLI);
      expect(await keyWorks(server, key)).toBe(false);
      expect(await tessera.stores.apiKeys.findApiKey(apiKey.id)).toMatchObject({
        revokedAt: expect.any(Number),
      });
      // The owner, logged in again, makes a new one if they still need it.
      const again = await login(app, email);
      expect(await keyWorks(server, (await createKey(app, again)).key)).toBe(true);
    });

    it('a key stops at its own expiry, whatever happens to logins', async () => {
      const server = await start(mode);
      const { app } = server;
      const device = await login(app, await user(server));
      const created = await call(app, device, 'POST', '/auth/api-keys', {
        name: 'short',
        scopes: ['profile'],
        expiresIn: '1h',
        password: PASSWORD,
      });
      const { key } = created.json() as { key: string };
      server.clock.advance(3_600_000 - 1_000);
      expect(await keyWorks(server, key)).toBe(true);
      server.clock.advance(1_000);
      expect(await keyWorks(server, key)).toBe(false);
    });

    it('a role change leaves API keys alone (they carry scopes, not roles)', async () => {
      const server = await start(mode);
      const { app, tessera } = server;
      const device = await login(app, await user(server, ['teller']));
      const { key } = await createKey(app, device);
      await tessera.control.setRoles(device.userId, [], CLI);
      expect(await keyWorks(server, key)).toBe(true);
    });
  });

  it('an ended login can do nothing: no key, no device ended, no logout-all, no password change', async () => {
    const server = await start(mode);
    const { app } = server;
    const email = await user(server);
    const [stolen, phone] = [await login(app, email), await login(app, email)];
    expect((await call(app, stolen, 'POST', '/auth/logout')).statusCode).toBe(204);

    const attempts = [
      await call(app, stolen, 'POST', '/auth/api-keys', {
        name: 'backdoor',
        scopes: ['accounts:write'],
        expiresIn: '365d',
        password: PASSWORD,
      }),
      await call(app, stolen, 'DELETE', `/auth/sessions/${phone.sessionId}`),
      await call(app, stolen, 'POST', '/auth/logout-all'),
      await call(app, stolen, 'POST', '/auth/password', {
        currentPassword: PASSWORD,
        newPassword: 'the attacker chose this one 7',
      }),
      await call(app, stolen, 'GET', '/auth/sessions'),
      await call(app, stolen, 'GET', '/auth/csrf'),
    ];
    for (const response of attempts) {
      expect(response.statusCode, `${response.body}`).toBe(401);
    }
    expect(await server.tessera.oauth.apiKeys.list({ userId: stolen.userId })).toEqual([]);
    expect((await call(app, phone, 'GET', '/auth/session')).statusCode).toBe(200);
    expect((await post(app, '/auth/login', { email, password: PASSWORD })).statusCode).toBe(200);
    // The one documented exception: in jwt mode GET /auth/session answers from the token alone,
    // until it expires (at most the access-token lifetime).
    expect((await call(app, stolen, 'GET', '/auth/session')).statusCode).toBe(mode === 'jwt' ? 200 : 401);
  });

  it("a locked account's live-looking tokens change nothing either", async () => {
    const server = await start(mode);
    const { app, tessera } = server;
    const device = await login(app, await user(server));
    await tessera.control.lockUser(device.userId, 'fraud', CLI);
    const response = await call(app, device, 'POST', '/auth/api-keys', {
      name: 'x',
      scopes: ['profile'],
      password: PASSWORD,
    });
    expect(response.statusCode).toBe(401);
    expect(await tessera.oauth.apiKeys.list({ userId: device.userId })).toEqual([]);
  });

  it('creating an API key needs the password again (401 password_required / invalid_password) and gives exactly the scopes asked', async () => {
    const server = await start(mode);
    const { app } = server;
    const device = await login(app, await user(server));
    const body = { name: 'ci', scopes: ['accounts:read'] };
    const missing = await call(app, device, 'POST', '/auth/api-keys', body);
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: 'password_required' });
    const wrong = await call(app, device, 'POST', '/auth/api-keys', {
      ...body,
      password: 'not my password!',
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'invalid_password' });
    expect(await server.tessera.oauth.apiKeys.list({ userId: device.userId })).toEqual([]);

    const { key, apiKey } = await createKey(app, device, ['accounts:read', 'accounts:read']);
    expect(apiKey.scopes).toEqual(['accounts:read']);
    expect(await server.tessera.oauth.apiKeys.introspect(key)).toMatchObject({
      active: true,
      scope: 'accounts:read',
    });
  });

  it('the last active admin can neither lose the admin role nor be locked: 409 last_admin', async () => {
    const server = await start(mode);
    const { app, tessera } = server;
    const admin = await login(app, await user(server, ['admin']));
    const demote = await call(app, admin, 'PUT', `/admin/api/users/${admin.userId}/roles`, { roles: [] });
    expect(demote.statusCode).toBe(409);
    expect(demote.json()).toMatchObject({ error: 'last_admin' });
    // The CLI's path (no admin session): the same refusal, for a lock too.
    await expect(tessera.control.lockUser(admin.userId, 'oops', CLI)).rejects.toMatchObject({
      code: 'last_admin',
      status: 409,
    });
    await expect(tessera.control.setRoles(admin.userId, ['teller'], CLI)).rejects.toMatchObject({
      code: 'last_admin',
    });
    expect(await tessera.accounts.findById(admin.userId)).toMatchObject({ roles: ['admin'], lockedAt: null });
    expect((await call(app, admin, 'GET', '/admin/api/users')).statusCode).toBe(200);

    // With a second admin, either may step down.
    const second = await login(app, await user(server, ['admin']));
    const stepDown = await call(app, admin, 'PUT', `/admin/api/users/${admin.userId}/roles`, { roles: [] });
    expect(stepDown.statusCode, stepDown.body).toBe(200);
    await expect(tessera.control.lockUser(second.userId, 'oops', CLI)).rejects.toMatchObject({
      code: 'last_admin',
    });
  });
});
