import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verifier } from '../../src/adapters/verify.js';
import { createVerifier } from '../../src/adapters/verify.js';
import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../../src/http/credentials.js';
import { CSRF_HEADER } from '../../src/http/plugins/csrf.js';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import { newEmail, PASSWORD, post, startTessera, TEST_CSRF_SECRET, type TestServer } from '../helpers.js';
import { loginWithSecondFactor, totpAt } from '../mfa-helpers.js';

/**
 * The same contract for every framework adapter, against a running Tessera in every mode.
 * A framework's test file only says how to build its app with these four routes:
 *   GET /me (requireAuth()) → the principal as JSON
 *   POST /transfers (requireAuth()) → {ok: true}
 *   GET /admin (requireAuth({roles: ['admin']})) → {ok: true}
 *   GET /statements (requireAuth({scopes: ['accounts:read']})) → {ok: true}
 *   POST /payees (requireAuth({freshWithin: '2m'})) → {ok: true}
 *   POST /wires (requireAuth({amr: ['otp', 'hwk', 'swk']})) → {ok: true}
 */
export type StartApp = (verifier: Verifier) => Promise<{ url: string; close(): Promise<void> }>;

const MODES = ['session', 'jwt', 'hybrid'] as const;

export function adapterContract(framework: string, startApp: StartApp): void {
  for (const mode of MODES) {
    describe(`${framework} requireAuth, Tessera in ${mode} mode`, () => {
      let server: TestServer;
      let app: { url: string; close(): Promise<void> };
      let verifier: Verifier;
      let customer: { token: string; userId: string; sessionId: string };
      let admin: { token: string };
      beforeAll(async () => {
        const bus = new InProcessBus();
        server = await startTessera({ env: { TESSERA_MODE: mode }, bus });
        await server.app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = server.app.server.address() as { port: number };
        verifier = createVerifier({
          mode,
          tesseraUrl: `http://127.0.0.1:${port}`,
          issuer: server.tessera.config.jwt.issuer,
          csrfSecret: TEST_CSRF_SECRET,
          now: server.clock.now,
          ...(mode === 'hybrid' ? { revocations: { store: server.tessera.stores.revocations, bus } } : {}),
        });
        app = await startApp(verifier);
        customer = await login(server, await register(server));
        admin = await login(server, await register(server, ['admin']));
      });
      afterAll(async () => {
        await app?.close();
        await verifier?.close();
        await server?.close();
      });

      const call = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
        fetch(`${app.url}${path}`, init);
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

      it('401 with a bare Bearer challenge without a credential, invalid_token with a bad one', async () => {
        const none = await call('/me');
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toBe('Bearer');
        expect(await none.json()).toMatchObject({ error: 'unauthenticated' });

        const bad = await call('/me', { headers: bearer('not-a-real-token') });
        expect(bad.status).toBe(401);
        expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      });

      it('a valid bearer credential gives the typed principal; POST needs no anti-CSRF token', async () => {
        const me = await call('/me', { headers: bearer(customer.token) });
        expect(me.status).toBe(200);
        expect(await me.json()).toEqual({
          userId: customer.userId,
          roles: [],
          scopes: [],
          sessionId: customer.sessionId,
          mode,
          transport: 'bearer',
          expiresAt: expect.any(Number),
          // How and when the user proved who they are: a password login, just now (ms).
          authTime: expect.any(Number),
          amr: ['pwd'],
          acr: 'aal1',
        });
        const transfer = await call('/transfers', { method: 'POST', headers: bearer(customer.token) });
        expect(transfer.status).toBe(200);
      });

      it('step-up: freshWithin and amr refuse with 401 step_up_required (RFC 9470) until POST /auth/reauthenticate', async () => {
        const email = await register(server);
        let device = await login(server, email);
        const send = (path: string) => call(path, { method: 'POST', headers: bearer(device.token) });
        // Just logged in with a password: fresh, but not a second factor.
        expect((await send('/payees')).status).toBe(200);
        const weak = await send('/wires');
        expect(weak.status).toBe(401);
        expect(await weak.json()).toMatchObject({ error: 'step_up_required' });
        expect(weak.headers.get('www-authenticate')).toMatch(
          /^Bearer error="insufficient_user_authentication"/,
        );
        // Enrol an authenticator app, then step up with a code: same login, new credential.
        const tessera = (path: string, payload?: unknown) =>
          server.app.inject({
            method: 'POST',
            url: path,
            headers: bearer(device.token),
            payload: payload as object,
          });
        const { secret } = (await tessera('/auth/mfa/totp')).json();
        expect(
          (await tessera('/auth/mfa/totp/confirm', { code: totpAt(secret, server.clock.now()) })).statusCode,
        ).toBe(200);
        server.clock.advance(30_000);
        const stepped = await tessera('/auth/reauthenticate', { code: totpAt(secret, server.clock.now()) });
        expect(stepped.statusCode, stepped.body).toBe(200);
        device = { ...device, token: stepped.json().token ?? stepped.json().accessToken };
        expect((await send('/wires')).status).toBe(200);
        const me = (await (await call('/me', { headers: bearer(device.token) })).json()) as {
          authTime: number;
        };
        expect(me).toMatchObject({ sessionId: device.sessionId, amr: ['otp'], acr: 'aal2' });
        // auth_time: whole seconds in a token, milliseconds from the store (session mode).
        expect(Math.floor(me.authTime / 1000)).toBe(Math.floor(server.clock.now() / 1000));
        // Three minutes on, the 2-minute freshness is gone: max_age tells the client.
        server.clock.advance(3 * 60_000);
        const stale = await send('/payees');
        expect(stale.status).toBe(401);
        expect(await stale.json()).toMatchObject({ error: 'step_up_required' });
        expect(stale.headers.get('www-authenticate')).toContain('max_age=120');
        const again = await tessera('/auth/reauthenticate', { password: PASSWORD });
        expect(again.statusCode, again.body).toBe(200);
        device = { ...device, token: again.json().token ?? again.json().accessToken };
        expect((await send('/payees')).status).toBe(200);
        // A password step-up is fresh but not a second factor.
        expect((await send('/wires')).status).toBe(401);
      });

      it('403 for a missing role or scope (insufficient_scope per RFC 6750)', async () => {
        const refused = await call('/admin', { headers: bearer(customer.token) });
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ error: 'forbidden' });
        expect((await call('/admin', { headers: bearer(admin.token) })).status).toBe(200);

        const scoped = await call('/statements', { headers: bearer(admin.token) });
        expect(scoped.status).toBe(403);
        expect(scoped.headers.get('www-authenticate')).toBe(
          'Bearer error="insufficient_scope", scope="accounts:read"',
        );
      });

      it("cookies: a state change needs Tessera's anti-CSRF token for that login", async () => {
        const email = await register(server);
        const response = await post(server.app, '/auth/login', { email, password: PASSWORD });
        const name = mode === 'session' ? SESSION_COOKIE : ACCESS_TOKEN_COOKIE;
        const value = response.cookies.find((c) => c.name === name)?.value;
        const cookie = `${name}=${value}`;
        // The token exactly as Tessera hands it to the page.
        const csrf = (
          await server.app.inject({ method: 'GET', url: '/auth/csrf', headers: { cookie } })
        ).json();

        expect((await call('/me', { headers: { cookie } })).status).toBe(200);
        const unprotected = await call('/transfers', { method: 'POST', headers: { cookie } });
        expect(unprotected.status).toBe(403);
        expect(await unprotected.json()).toMatchObject({ error: 'csrf_token_invalid' });
        const foreign = await call('/transfers', {
          method: 'POST',
          headers: { cookie, [CSRF_HEADER]: 'x'.repeat(43) },
        });
        expect(foreign.status).toBe(403);
        const ok = await call('/transfers', {
          method: 'POST',
          headers: { cookie, [CSRF_HEADER]: csrf.csrfToken },
        });
        expect(ok.status).toBe(200);
      });

      it(`a logout reaches this app ${mode === 'session' ? 'after the positive cache (2 s)' : mode === 'jwt' ? 'at access-token expiry' : 'at once'}`, async () => {
        const device = await login(server, await register(server));
        expect((await call('/me', { headers: bearer(device.token) })).status).toBe(200);
        await post(server.app, '/auth/logout', {}, bearer(device.token));
        const next = await call('/me', { headers: bearer(device.token) });
        if (mode === 'hybrid') {
          expect(next.status).toBe(401);
          expect(await next.json()).toMatchObject({ error: 'token_revoked' });
          return;
        }
        expect(next.status).toBe(200);
        // session: past the cache; jwt: past exp + the 60 s clock-skew allowance.
        server.clock.advance(
          mode === 'session' ? 2_001 : server.tessera.config.jwt.accessTokenTtlMs + 61_000,
        );
        const later = await call('/me', { headers: bearer(device.token) });
        expect(later.status).toBe(401);
        expect(await later.json()).toMatchObject({
          error: mode === 'session' ? 'unauthenticated' : 'token_expired',
        });
        expect(later.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      });
    });
  }
}

async function register(server: TestServer, roles: string[] = []): Promise<string> {
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  return email;
}

async function login(server: TestServer, email: string) {
  // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
  const response = await loginWithSecondFactor(server.app, {
    email,
    password: PASSWORD,
    transport: 'bearer',
  });
  const body = response.json();
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  return {
    token: (body.token ?? body.accessToken) as string,
    userId: body.user.id as string,
    sessionId: body.session.id as string,
  };
}
