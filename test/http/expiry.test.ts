import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENEWAL_INTERVAL_MS } from '../../src/core/sessions.js';
import { registerAndLogin, startTessera, type TestServer, withSession } from '../helpers.js';

const MINUTE = 60_000;
let server: TestServer;
beforeAll(async () => {
  server = await startTessera({
    env: { TESSERA_SESSION_IDLE_TIMEOUT: '30m', TESSERA_SESSION_ABSOLUTE_TIMEOUT: '2h' },
  });
});
afterAll(() => server.close());

const sessionOf = (token: string) =>
  server.app.inject({ method: 'GET', url: '/auth/session', headers: withSession(token) });
const storedSession = (token: string) =>
  server.tessera.stores.sessions.findSession(token.split('.')[0] as string);

describe('idle and absolute expiry on the server clock', () => {
  it('ends a session left idle for the idle timeout', async () => {
    const { token } = await registerAndLogin(server.app);
    server.clock.advance(30 * MINUTE - 1);
    expect((await sessionOf(token)).statusCode).toBe(200);
    server.clock.advance(30 * MINUTE);
    expect((await sessionOf(token)).statusCode).toBe(401);
    expect(await storedSession(token)).toBeUndefined();
  });

  it('keeps an active session alive past the idle timeout, then ends it at the absolute timeout', async () => {
    const { token } = await registerAndLogin(server.app);
    for (let elapsed = 0; elapsed < 2 * 60 * MINUTE - 20 * MINUTE; elapsed += 20 * MINUTE) {
      server.clock.advance(20 * MINUTE);
      expect((await sessionOf(token)).statusCode).toBe(200);
    }
    server.clock.advance(20 * MINUTE);
    const expired = await sessionOf(token);
    expect(expired.statusCode).toBe(401);
    // The refused cookie is cleared so the browser stops sending it.
    expect(expired.cookies.find((c) => c.name === '__Host-tessera_session')?.value).toBe('');
  });

  it('writes sliding renewal to the store at most once a minute', async () => {
    const { token } = await registerAndLogin(server.app);
    const loginSeen = (await storedSession(token))?.lastSeenAt;
    server.clock.advance(RENEWAL_INTERVAL_MS - 1);
    await sessionOf(token);
    expect((await storedSession(token))?.lastSeenAt).toBe(loginSeen);
    server.clock.advance(1);
    await sessionOf(token);
    const renewed = (await storedSession(token))?.lastSeenAt;
    expect(renewed).toBe(server.clock.now());
    server.clock.advance(30_000);
    await sessionOf(token);
    expect((await storedSession(token))?.lastSeenAt).toBe(renewed);
  });

  it('reports expiresAt as the earlier of idle and absolute expiry', async () => {
    const { token } = await registerAndLogin(server.app);
    const body = (await sessionOf(token)).json();
    expect(Date.parse(body.session.expiresAt)).toBe(server.clock.now() + 30 * MINUTE);
    expect(Date.parse(body.session.absoluteExpiresAt)).toBe(server.clock.now() + 2 * 60 * MINUTE);
  });

  it('sweeps expired sessions out of the store and keeps live ones', async () => {
    const stale = await registerAndLogin(server.app);
    server.clock.advance(20 * MINUTE);
    const fresh = await registerAndLogin(server.app);
    server.clock.advance(15 * MINUTE);
    const swept = await server.tessera.sessions.sweep();
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(await storedSession(stale.token)).toBeUndefined();
    expect(await storedSession(fresh.token)).toBeDefined();
    expect(await server.tessera.sessions.sweep()).toBe(0);
  });
});
