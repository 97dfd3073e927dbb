import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer, tempDir } from '../helpers.js';

/**
 * GET /auth/session names the user by email in every mode, so apps never show a raw id as
 * "Signed in as". In jwt and hybrid modes the email comes from the store (the token carries
 * none): remembered from the login's own user row, or read once by a node that never saw it.
 */
describe.each(['session', 'jwt', 'hybrid'] as const)('GET /auth/session in %s mode', (mode) => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('answers the email of the store, also on a node that did not see the login', async () => {
    const database = `sqlite://${join(tempDir(), 'shared.db')}`;
    const env = {
      TESSERA_MODE: mode,
      TESSERA_DATABASE_URL: database,
      TESSERA_KEY_ENCRYPTION_KEY: 'a'.repeat(64),
    };
    const first = await startTessera({ env });
    servers.push(first);
    const email = newEmail();
    await post(first.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(first.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    const token = (login.json().accessToken ?? login.json().token) as string;
    const headers = { authorization: `Bearer ${token}` };
    const here = await first.app.inject({ method: 'GET', url: '/auth/session', headers });
    expect(here.statusCode).toBe(200);
    expect(here.json().user).toEqual({ id: login.json().user.id, email, roles: [], emailVerified: false });
    if (mode === 'session') return;

    // A second node on the same database (as behind a load balancer): nothing remembered yet.
    const second = await startTessera({ env, runtime: first.clock });
    servers.push(second);
    const unknownHere = second.tessera.userEmails.emailOf(login.json().user.id);
    expect(unknownHere).toBeInstanceOf(Promise);
    expect(await unknownHere).toBe(email);
    // Forgotten again, so the request below takes the store-read path itself.
    second.tessera.userEmails.forget(login.json().user.id);
    const there = await second.app.inject({ method: 'GET', url: '/auth/session', headers });
    expect(there.statusCode).toBe(200);
    expect(there.json().user.email).toBe(email);
    // Remembered now: later requests read no store for it.
    expect(second.tessera.userEmails.emailOf(login.json().user.id)).toBe(email);
  });
});
