import { afterAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * POST /auth/logout with a bearer token that is refused must not answer 204: the client (the
 * README's curl tour once sent a whole JSON body as the token) would believe it logged out while
 * its login lives on. Cookie clients keep the idempotent 204 (test/http/session-flow.test.ts).
 */
describe.each(['session', 'jwt', 'hybrid'] as const)(
  'POST /auth/logout with a bearer token, %s mode',
  (mode) => {
    let server: TestServer;
    afterAll(() => server?.close());

    const bearerLogin = async () => {
      const email = newEmail();
      expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
      const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(login.statusCode).toBe(200);
      const body = login.json();
      return (mode === 'session' ? body.token : body.accessToken) as string;
    };
    const logout = (token: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/logout',
        headers: { authorization: `Bearer ${token}` },
      });

    it('answers 401 with a stable code for a malformed or unknown token, and logs nothing out', async () => {
      server = await startTessera({ env: { TESSERA_MODE: mode } });
      const token = await bearerLogin();
      for (const garbage of ['{"user":{"id":"x"}}', 'not-a-token', `${token}x`]) {
        const refused = await logout(garbage);
        expect(refused.statusCode, garbage).toBe(401);
        expect(refused.json().error).toMatch(/^(unauthenticated|token_\w+)$/);
      }
      const whoAmI = await server.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(whoAmI.statusCode).toBe(200);
    });

    it('answers 204 for a live token and ends that login', async () => {
      const token = await bearerLogin();
      expect((await logout(token)).statusCode).toBe(204);
      const sessions = await server.app.inject({
        method: 'GET',
        url: '/auth/sessions',
        headers: { authorization: `Bearer ${token}` },
      });
      // Every route but GET /auth/session checks the login is live, jwt mode too.
      expect(sessions.statusCode).toBe(401);
      expect(sessions.json().error).toBe(mode === 'session' ? 'unauthenticated' : 'token_revoked');
    });

    it('keeps the cookie logout idempotent: no credential at all still answers 204', async () => {
      const response = await server.app.inject({ method: 'POST', url: '/auth/logout' });
      expect(response.statusCode).toBe(204);
    });
  },
);
