import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLoginMode } from '../../src/http/modes/choose-mode.js';
import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../../src/wire/credentials.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

// The mode is explicit (tessera.mode) and chosen once (buildApp decorates the app with its
// LoginMode): each mode gets its own credential, its own routes and its own checks.
describe.each([
  { mode: 'session', cookie: SESSION_COOKIE, refreshRoute: false, tokenParts: false },
  { mode: 'jwt', cookie: ACCESS_TOKEN_COOKIE, refreshRoute: true, tokenParts: true },
  { mode: 'hybrid', cookie: ACCESS_TOKEN_COOKIE, refreshRoute: true, tokenParts: true },
] as const)('$mode mode', ({ mode, cookie, refreshRoute, tokenParts }) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTessera({ env: { TESSERA_MODE: mode } });
  });
  afterAll(() => server.close());

  it('is the mode TESSERA_MODE names, and picks that strategy', () => {
    expect(server.tessera.mode).toBe(mode);
    expect(server.app.loginMode.name).toBe(mode);
    expect(chooseLoginMode(server.tessera).name).toBe(mode);
    expect(server.app.loginMode.credentialCookie).toBe(cookie);
    // Only the token modes carry a keyring and token logins (typed per mode on Tessera).
    expect(server.tessera.keyring !== undefined).toBe(tokenParts);
    expect(server.tessera.tokens !== undefined).toBe(tokenParts);
  });

  it(`${refreshRoute ? 'registers' : 'registers no'} refresh route, and publishes its public keys`, async () => {
    expect(server.app.hasRoute({ method: 'POST', url: '/auth/refresh' })).toBe(refreshRoute);
    const refresh = await post(server.app, '/auth/refresh', { refreshToken: 'x.y' });
    expect(refresh.statusCode).toBe(refreshRoute ? 401 : 404);
    const jwks = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    expect(Array.isArray(jwks.json().keys)).toBe(true);
  });

  it('hands out the mode’s credential at login and checks it as the mode does after logout', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    expect(login.statusCode, login.body).toBe(200);
    const body = login.json();
    const credential: string = mode === 'session' ? body.token : body.accessToken;
    expect(Object.keys(body).includes('refreshToken')).toBe(tokenParts);
    const headers = { authorization: `Bearer ${credential}` };
    expect((await server.app.inject({ method: 'GET', url: '/auth/session', headers })).statusCode).toBe(200);

    expect((await server.app.inject({ method: 'POST', url: '/auth/logout', headers })).statusCode).toBe(204);
    // GET /auth/session after the login ended: session mode reads the store; jwt mode trusts the
    // signature alone until the token expires; hybrid adds its in-memory revocation check.
    const after = await server.app.inject({ method: 'GET', url: '/auth/session', headers });
    expect(after.statusCode).toBe(mode === 'jwt' ? 200 : 401);
  });
});
