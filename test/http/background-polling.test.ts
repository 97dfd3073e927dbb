import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKGROUND_HEADER } from '../../src/http/credentials.js';
import { csrfFor, newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

const MINUTE = 60_000;
/** The console polls every 2 s; on the manual clock a poll every 2 minutes covers the same ground. */
const POLL_EVERY = 2 * MINUTE;

/**
 * The admin console polls the admin API every 2 seconds with `x-tessera-background: 1`. Those
 * polls must not count as the admin's activity: an admin who walks away is signed out after the
 * idle timeout like anyone else. Over real HTTP handling (inject), cookies as a browser keeps them.
 */
describe.each(['session', 'jwt', 'hybrid'] as const)('%s mode: background polling', (mode) => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  async function adminConsole() {
    const server = await startTessera({
      env: {
        TESSERA_MODE: mode,
        TESSERA_SESSION_IDLE_TIMEOUT: '30m',
        TESSERA_SESSION_ABSOLUTE_TIMEOUT: '12h',
        TESSERA_ACCESS_TOKEN_TTL: '5m',
      },
    });
    servers.push(server);
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD }, ['admin']);
    const jar = new Map<string, string>();
    const keep = (response: LightMyRequestResponse) => {
      for (const c of response.cookies) {
        if (c.value === '') jar.delete(c.name);
        else jar.set(c.name, c.value);
      }
    };
    // The admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    keep(await loginWithSecondFactor(server.app, { email, password: PASSWORD }));
    const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

    /** One poll as console.js makes it: on token_expired, one refresh, then the call again. */
    async function poll(background: boolean): Promise<number> {
      const extra: Record<string, string> = background ? { [BACKGROUND_HEADER]: '1' } : {};
      const get = () =>
        server.app.inject({
          method: 'GET',
          url: '/admin/api/sessions',
          headers: { cookie: cookieHeader(), ...extra },
        });
      let response = await get();
      keep(response);
      const error = response.json().error;
      if (response.statusCode === 401 && (error === 'token_expired' || error === 'token_revoked')) {
        const refreshed = await server.app.inject({
          method: 'POST',
          url: '/auth/refresh',
          headers: { cookie: cookieHeader(), ...csrfFor(cookieHeader()), ...extra },
        });
        keep(refreshed);
        if (refreshed.statusCode !== 200) return refreshed.statusCode;
        response = await get();
        keep(response);
      }
      return response.statusCode;
    }
    return { server, poll };
  }

  it('an admin whose console only polls is signed out once the idle timeout passes', async () => {
    const { server, poll } = await adminConsole();
    const statuses: number[] = [];
    // 40 minutes of polling: well past the 30-minute idle timeout.
    for (let elapsed = 0; elapsed < 40 * MINUTE; elapsed += POLL_EVERY) {
      server.clock.advance(POLL_EVERY);
      statuses.push(await poll(true));
    }
    const firstRefused = statuses.indexOf(401);
    // Live for the first 28 minutes (14 polls), refused from the 30th minute on, and never again let in.
    expect(firstRefused).toBeGreaterThanOrEqual(14);
    expect(firstRefused).toBeLessThanOrEqual(15);
    expect(statuses.slice(0, firstRefused).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(firstRefused).every((s) => s === 401)).toBe(true);
  });

  it('the same requests without the header are activity and keep the login alive', async () => {
    const { server, poll } = await adminConsole();
    for (let elapsed = 0; elapsed < 40 * MINUTE; elapsed += POLL_EVERY) {
      server.clock.advance(POLL_EVERY);
      expect(await poll(false)).toBe(200);
    }
  });

  it('a foreground request between polls renews the login as usual', async () => {
    const { server, poll } = await adminConsole();
    for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += POLL_EVERY) {
      server.clock.advance(POLL_EVERY);
      expect(await poll(true)).toBe(200);
    }
    expect(await poll(false)).toBe(200);
    // 20 more minutes of background polls: 40 minutes since login, 20 since the admin acted.
    for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += POLL_EVERY) {
      server.clock.advance(POLL_EVERY);
      expect(await poll(true)).toBe(200);
    }
  });
});
