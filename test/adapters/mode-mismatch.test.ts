import { afterAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '../../src/adapters/verify.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * An app whose verifier's mode is not Tessera's: every login is refused, and the app's log says
 * why, once, naming both modes. Real Tessera servers in each mode, real logins.
 */

const servers: TestServer[] = [];
const verifiers: Verifier[] = [];
afterAll(async () => {
  for (const verifier of verifiers) await verifier.close();
  for (const server of servers) await server.close();
});

async function tesseraIn(mode: 'session' | 'jwt') {
  const server = await startTessera({ env: { TESSERA_MODE: mode } });
  servers.push(server);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD });
  const cookieLogin = await post(server.app, '/auth/login', { email, password: PASSWORD });
  const cookies = cookieLogin.cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
  const bearerBody = (
    await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
  ).json();
  return { server, url, cookies, bearer: (bearerBody.token ?? bearerBody.accessToken) as string };
}

function verifierFor(mode: 'session' | 'jwt', tessera: { server: TestServer; url: string }) {
  const warnings: string[] = [];
  const verifier = createVerifier({
    mode,
    tesseraUrl: tessera.url,
    issuer: tessera.server.tessera.config.jwt.issuer,
    now: tessera.server.clock.now,
    onWarning: (message) => warnings.push(message),
  });
  verifiers.push(verifier);
  return { verifier, warnings };
}

/** The warning is confirmed by a question to Tessera, so it arrives shortly after the request. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('a verifier in another mode than Tessera warns once, naming both modes', () => {
  it('jwt app, session Tessera: the session cookie leads to one warning, however many requests', async () => {
    const tessera = await tesseraIn('session');
    const { verifier, warnings } = verifierFor('jwt', tessera);
    for (let i = 0; i < 3; i++) {
      expect((await verifier.authenticate({ cookie: tessera.cookies })).ok).toBe(false);
      tessera.server.clock.advance(11_000);
      await expect.poll(() => warnings.length).toBe(1);
    }
    await settled();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/configured with mode 'jwt', but Tessera runs in session mode/);
  });

  it('jwt app, session Tessera: an opaque bearer session token', async () => {
    const tessera = await tesseraIn('session');
    const { verifier, warnings } = verifierFor('jwt', tessera);
    expect((await verifier.authenticate({ authorization: `Bearer ${tessera.bearer}` })).ok).toBe(false);
    await expect
      .poll(() => warnings)
      .toEqual([expect.stringMatching(/mode 'jwt', but Tessera runs in session mode/)]);
  });

  it('session app, jwt Tessera: the access-token cookie, and a bearer JWT (which Tessera accepts)', async () => {
    const tessera = await tesseraIn('jwt');
    const byCookie = verifierFor('session', tessera);
    expect((await byCookie.verifier.authenticate({ cookie: tessera.cookies })).ok).toBe(false);
    await expect
      .poll(() => byCookie.warnings)
      .toEqual([expect.stringMatching(/mode 'session', but Tessera runs in jwt mode/)]);

    const byBearer = verifierFor('session', tessera);
    expect((await byBearer.verifier.authenticate({ authorization: `Bearer ${tessera.bearer}` })).ok).toBe(
      true,
    );
    expect(byBearer.warnings).toEqual([
      expect.stringMatching(/mode 'session', but Tessera runs in jwt mode/),
    ]);
  });

  it('no warning when the modes match, nor for made-up credentials of the other kind', async () => {
    for (const mode of ['session', 'jwt'] as const) {
      const tessera = await tesseraIn(mode);
      const { verifier, warnings } = verifierFor(mode, tessera);
      expect((await verifier.authenticate({ cookie: tessera.cookies })).ok).toBe(true);
      expect((await verifier.authenticate({ authorization: `Bearer ${tessera.bearer}` })).ok).toBe(true);
      expect((await verifier.authenticate({})).ok).toBe(false);
      // Shaped like the other mode's credential, but Tessera does not know them.
      const madeUp = mode === 'jwt' ? `${'a'.repeat(22)}.${'b'.repeat(43)}` : 'eyJhbGciOiJFZERTQSJ9.e30.c2ln';
      expect((await verifier.authenticate({ authorization: `Bearer ${madeUp}` })).ok).toBe(false);
      const otherCookie = mode === 'jwt' ? '__Host-tessera_session' : '__Host-tessera_at';
      expect((await verifier.authenticate({ cookie: `${otherCookie}=${madeUp}` })).ok).toBe(false);
      await settled();
      expect(warnings).toEqual([]);
    }
  });
});
