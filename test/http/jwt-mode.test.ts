import type { LightMyRequestResponse } from 'fastify';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE } from '../../src/http/credentials.js';
import { CSRF_COOKIE, CSRF_HEADER } from '../../src/http/plugins/csrf.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTessera({ env: { TESSERA_MODE: 'jwt', TESSERA_ISSUER: 'https://auth.example.com' } });
});
afterAll(() => server.close());

const cookieOf = (response: LightMyRequestResponse, name: string) =>
  response.cookies.find((c) => c.name === name)?.value || undefined;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sessionWith = (headers: Record<string, string>) =>
  server.app.inject({ method: 'GET', url: '/auth/session', headers });
const decodePayload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());

async function loginBearer(email = newEmail()) {
  await post(server.app, '/auth/register', { email, password: PASSWORD });
  const response = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
  expect(response.statusCode, response.body).toBe(200);
  return {
    email,
    ...(response.json() as { accessToken: string; refreshToken: string; user: { id: string } }),
  };
}
const refresh = (refreshToken: string) => post(server.app, '/auth/refresh', { refreshToken });

describe('jwt mode: tokens', () => {
  it('browsers get both tokens in cookies with the right prefixes, paths and SameSite, nothing in the body', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    expect(login.statusCode).toBe(200);
    expect(login.body).not.toContain(cookieOf(login, ACCESS_TOKEN_COOKIE) as string);
    expect(login.json()).not.toHaveProperty('accessToken');

    const jar = new CookieJar(undefined, { prefixSecurity: 'strict' });
    for (const header of login.headers['set-cookie'] as string[]) {
      await jar.setCookie(header, 'https://tessera.test/auth/login');
    }
    const atCookie = (await jar.getCookies('https://tessera.test/')).find(
      (c) => c.key === ACCESS_TOKEN_COOKIE,
    );
    expect(atCookie).toMatchObject({
      httpOnly: true,
      secure: true,
      path: '/',
      sameSite: 'lax',
      domain: 'tessera.test',
    });
    expect(atCookie?.hostOnly).toBe(true);
    expect(atCookie?.maxAge).toBe(300);
    // The refresh token goes nowhere but /auth/refresh, and never cross-site.
    expect((await jar.getCookies('https://tessera.test/')).map((c) => c.key)).not.toContain(
      REFRESH_TOKEN_COOKIE,
    );
    const rtCookie = (await jar.getCookies('https://tessera.test/auth/refresh')).find(
      (c) => c.key === REFRESH_TOKEN_COOKIE,
    );
    expect(rtCookie).toMatchObject({
      httpOnly: true,
      secure: true,
      path: '/auth/refresh',
      sameSite: 'strict',
    });

    const session = await sessionWith({ cookie: `${ACCESS_TOKEN_COOKIE}=${atCookie?.value}` });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toEqual({
      user: { id: login.json().user.id, email: login.json().user.email, roles: [], emailVerified: false },
      session: {
        id: login.json().session.id,
        mode: 'jwt',
        expiresAt: expect.any(String),
        // The token's auth_time, amr and acr: a password login, when it was made.
        authTime: login.json().session.createdAt,
        amr: ['pwd'],
        acr: 'aal1',
      },
    });
  });

  it('access tokens are at+jwt with a kid and carry exactly iss, aud, sub, sid, jti, iat, exp, roles, auth_time, amr, acr', async () => {
    const { accessToken, email, user } = await loginBearer();
    expect(decodeProtectedHeader(accessToken)).toEqual({
      alg: 'EdDSA',
      typ: 'at+jwt',
      kid: expect.any(String),
    });
    const claims = decodePayload(accessToken);
    expect(Object.keys(claims).sort()).toEqual([
      'acr',
      'amr',
      'aud',
      'auth_time',
      'exp',
      'iat',
      'iss',
      'jti',
      'roles',
      'sid',
      'sub',
    ]);
    expect(claims).toMatchObject({
      iss: 'https://auth.example.com',
      aud: 'tessera',
      sub: user.id,
      roles: [],
      // A password login (RFC 8176), proven when the token's login was made.
      amr: ['pwd'],
      acr: 'aal1',
      auth_time: claims.iat,
    });
    expect(claims.exp - claims.iat).toBe(300);
    expect(JSON.stringify(claims)).not.toContain(email);
  });

  it('accepts bearer access tokens, never one in the URL, never a refresh token as an access token', async () => {
    const { accessToken, refreshToken } = await loginBearer();
    expect((await sessionWith(bearer(accessToken))).statusCode).toBe(200);
    const inQuery = await server.app.inject({
      method: 'GET',
      url: `/auth/session?access_token=${accessToken}`,
    });
    expect(inQuery.statusCode).toBe(401);
    const swapped = await sessionWith(bearer(refreshToken));
    expect(swapped.statusCode).toBe(401);
    expect(swapped.json().error).toBe('token_malformed');
    // ...and an access token is not a refresh token either.
    expect((await refresh(accessToken)).json().error).toBe('invalid_refresh_token');
  });

  it('expires access tokens after their lifetime plus at most 60 s of skew, with token_expired', async () => {
    const { accessToken } = await loginBearer();
    server.clock.advance(300_000 + 59_000);
    expect((await sessionWith(bearer(accessToken))).statusCode).toBe(200);
    server.clock.advance(2_000);
    const expired = await sessionWith(bearer(accessToken));
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toBe('token_expired');
  });

  it('refuses forged tokens: alg none, stripped signature, tampered payload', async () => {
    const { accessToken } = await loginBearer();
    const [header, payload] = accessToken.split('.') as [string, string];
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const admin = b64({ ...decodePayload(accessToken), roles: ['admin'] });
    const forged = {
      none: `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
      NoNe: `${b64({ alg: 'NoNe', typ: 'at+jwt', kid: 'x' })}.${payload}.`,
      stripped: `${header}.${payload}.`,
      tampered: `${header}.${admin}.${accessToken.split('.')[2]}`,
    };
    for (const [name, token] of Object.entries(forged)) {
      const response = await sessionWith(bearer(token));
      expect(response.statusCode, name).toBe(401);
      expect(response.json().error, name).toMatch(/^token_/);
    }
  });
});

describe('jwt mode: refresh rotation and theft detection', () => {
  it('rotates: a new pair, and the old refresh token is retired', async () => {
    const { refreshToken, accessToken } = await loginBearer();
    const first = await refresh(refreshToken);
    expect(first.statusCode).toBe(200);
    const pair = first.json();
    expect(pair).toEqual({
      tokenType: 'Bearer',
      accessToken: expect.any(String),
      expiresIn: 300,
      refreshToken: expect.any(String),
    });
    expect(pair.refreshToken).not.toBe(refreshToken);
    expect(pair.accessToken).not.toBe(accessToken);
    expect((await sessionWith(bearer(pair.accessToken))).statusCode).toBe(200);
  });

  it('two tabs refreshing at once with the same token both succeed, and the login continues', async () => {
    const { refreshToken } = await loginBearer();
    const [a, b] = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    // Whichever response the shared cookie ended up with keeps working, after the window too.
    server.clock.advance(30_000);
    expect((await refresh(b.json().refreshToken)).statusCode).toBe(200);
  });

  it('a retired token replayed after the grace window revokes the whole family: token_reused, audited', async () => {
    const { refreshToken, user } = await loginBearer();
    const next = (await refresh(refreshToken)).json().refreshToken;
    server.clock.advance(10_001);
    const replay = await refresh(refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toBe('token_reused');
    // The legitimate holder's newer token is dead too: the thief cannot keep the login alive.
    expect((await refresh(next)).json().error).toBe('invalid_refresh_token');
    const events = await server.tessera.audit.list({ userId: user.id, type: 'token.reuse_detected' });
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).not.toContain(refreshToken.split('.')[1]);
  });

  it('browser refresh reads and replaces the cookie; a refused cookie is cleared', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(server.app, '/auth/login', { email, password: PASSWORD });
    const rt = cookieOf(login, REFRESH_TOKEN_COOKIE) as string;
    const refreshed = await server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      // The page copies the script-readable CSRF cookie of this login into the header.
      headers: {
        cookie: `${REFRESH_TOKEN_COOKIE}=${rt}`,
        [CSRF_HEADER]: cookieOf(login, CSRF_COOKIE) as string,
      },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(cookieOf(refreshed, ACCESS_TOKEN_COOKIE)).toBeDefined();
    expect(cookieOf(refreshed, REFRESH_TOKEN_COOKIE)).not.toBe(rt);
    const bogus = await server.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { cookie: `${REFRESH_TOKEN_COOKIE}=nonsense` },
    });
    expect(bogus.statusCode).toBe(401);
    expect(bogus.cookies.find((c) => c.name === REFRESH_TOKEN_COOKIE)?.value).toBe('');
    expect((await post(server.app, '/auth/refresh', {})).json().error).toBe('invalid_refresh_token');
  });

  it('logout revokes the family; logout-all and password change revoke every family of the user', async () => {
    const a = await loginBearer();
    const logout = await server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: bearer(a.accessToken),
    });
    expect(logout.statusCode).toBe(204);
    expect((await refresh(a.refreshToken)).statusCode).toBe(401);

    const first = await loginBearer();
    const second = (
      await post(server.app, '/auth/login', { email: first.email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const all = await server.app.inject({
      method: 'POST',
      url: '/auth/logout-all',
      headers: bearer(first.accessToken),
    });
    expect(all.json()).toEqual({ revoked: 2, revokedApiKeys: 0 });
    expect((await refresh(first.refreshToken)).statusCode).toBe(401);
    expect((await refresh(second.refreshToken)).statusCode).toBe(401);

    const mine = await loginBearer();
    const other = (
      await post(server.app, '/auth/login', { email: mine.email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const change = await post(
      server.app,
      '/auth/password',
      { currentPassword: PASSWORD, newPassword: 'a different passphrase' },
      bearer(mine.accessToken),
    );
    expect(change.statusCode).toBe(200);
    expect(change.json()).toMatchObject({ revokedOtherSessions: 1, refreshToken: expect.any(String) });
    expect((await refresh(other.refreshToken)).statusCode).toBe(401);
    // This device continues under the new refresh token; its old one is retired.
    expect((await refresh(change.json().refreshToken)).statusCode).toBe(200);
    server.clock.advance(10_001);
    expect((await refresh(mine.refreshToken)).json().error).toBe('token_reused');
  });

  it('lists token families as devices and ends one by id', async () => {
    const a = await loginBearer();
    const b = (
      await post(server.app, '/auth/login', { email: a.email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const list = await server.app.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: bearer(a.accessToken),
    });
    expect(list.json().sessions).toHaveLength(2);
    const end = await server.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${b.session.id}`,
      headers: bearer(a.accessToken),
    });
    expect(end.statusCode).toBe(204);
    expect((await refresh(b.refreshToken)).statusCode).toBe(401);
  });
});

describe('jwt mode: keys', () => {
  it('publishes public keys only, active and next, with a cache lifetime', async () => {
    const jwks = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    const { keys } = jwks.json();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      expect(key).toMatchObject({
        kty: 'OKP',
        crv: 'Ed25519',
        alg: 'EdDSA',
        use: 'sig',
        kid: expect.any(String),
      });
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
    }
    const statuses = server.tessera.keyring?.list().map((k) => k.status);
    expect(statuses).toContain('next');
  });

  it('rotation publishes the next key before it signs and keeps the old key until its tokens expire', async () => {
    const keyring = server.tessera.keyring;
    if (!keyring) throw new Error('jwt mode has a keyring');
    const before = await loginBearer();
    const nextKid = keyring.list().find((k) => k.status === 'next')?.kid;
    const published = (await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys;
    expect(published.map((k: { kid: string }) => k.kid)).toContain(nextKid);

    await keyring.rotate();
    const after = await loginBearer();
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(nextKid);
    expect((await sessionWith(bearer(before.accessToken))).statusCode).toBe(200);
    // Once every token of the retired key has expired, the key is dropped.
    server.clock.advance(300_000 + 60_001);
    await keyring.reload();
    expect(keyring.list().map((k) => k.kid)).not.toContain(decodeProtectedHeader(before.accessToken).kid);
  });

  it('revoking a key fails its tokens at once; users recover by refreshing, without logging in', async () => {
    const keyring = server.tessera.keyring;
    if (!keyring) throw new Error('jwt mode has a keyring');
    const victim = await loginBearer();
    const kid = decodeProtectedHeader(victim.accessToken).kid as string;
    expect(await keyring.revoke(kid)).toBe(true);
    const refused = await sessionWith(bearer(victim.accessToken));
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('token_unknown_key');
    const recovered = await refresh(victim.refreshToken);
    expect(recovered.statusCode).toBe(200);
    expect(decodeProtectedHeader(recovered.json().accessToken).kid).not.toBe(kid);
    expect((await sessionWith(bearer(recovered.json().accessToken))).statusCode).toBe(200);
  });
});

describe('jwt mode: an independent verifier', () => {
  it("jose's createRemoteJWKSet + jwtVerify, pointed at the running server, accepts Tessera's tokens", async () => {
    const live = await startTessera({
      env: { TESSERA_MODE: 'jwt', TESSERA_ISSUER: 'https://auth.example.com' },
    });
    const address = await live.app.listen({ port: 0, host: '127.0.0.1' });
    const email = newEmail();
    await post(live.app, '/auth/register', { email, password: PASSWORD });
    const { accessToken, user } = (
      await post(live.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const jwks = createRemoteJWKSet(new URL(`${address}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
      issuer: 'https://auth.example.com',
      audience: 'tessera',
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      currentDate: new Date(live.clock.now()),
    });
    expect(payload.sub).toBe(user.id);
    expect(protectedHeader.typ).toBe('at+jwt');
    await live.close();
  });
});

describe.each(['ES256', 'RS256', 'HS256'])('jwt mode with %s', (alg) => {
  it('signs and verifies, and publishes a JWKS only for asymmetric keys', async () => {
    const local = await startTessera({ env: { TESSERA_MODE: 'jwt', TESSERA_JWT_ALGORITHM: alg } });
    const email = newEmail();
    await post(local.app, '/auth/register', { email, password: PASSWORD });
    const { accessToken, refreshToken } = (
      await post(local.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    expect(decodeProtectedHeader(accessToken).alg).toBe(alg);
    const session = await local.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: bearer(accessToken),
    });
    expect(session.statusCode).toBe(200);
    expect((await post(local.app, '/auth/refresh', { refreshToken })).statusCode).toBe(200);
    const { keys } = (await local.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(keys.length).toBe(alg === 'HS256' ? 0 : 2);
    await local.close();
  });
});
