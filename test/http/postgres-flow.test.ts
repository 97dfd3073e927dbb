import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { ACCESS_TOKEN_COOKIE } from '../../src/http/credentials.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import { newEmail, PASSWORD, post, registerAndLogin, startTessera, withSession } from '../helpers.js';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';

/** The whole app on PostgreSQL: the session flow, and the jwt flow across two nodes. */
await describeWithPostgres('the app on PostgreSQL', (url) => {
  afterAll(() => dropTestSchemas(url));

  it('session mode, configured by TESSERA_DATABASE_URL alone: register, login, session, logout', async () => {
    // The schema comes in through the URL (libpq's `options`), as an operator could set it.
    const schema = testSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    await client.end();
    const withSchema = new URL(url);
    withSchema.searchParams.set('options', `-c search_path=${schema}`);

    const server = await startTessera({ env: { TESSERA_DATABASE_URL: withSchema.toString() } });
    try {
      expect(server.tessera.config.database.engine).toBe('postgres');
      expect(server.tessera.stores.engine).toBe('postgres');
      expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      const { token, email, userId } = await registerAndLogin(server.app);
      const session = await server.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: withSession(token),
      });
      expect(session.statusCode).toBe(200);
      expect(session.json()).toMatchObject({
        user: { id: userId, email, roles: [] },
        session: { id: token.split('.')[0], mode: 'session' },
      });
      // Sliding renewal writes through to PostgreSQL.
      server.clock.advance(5 * 60_000);
      expect(
        (await server.app.inject({ method: 'GET', url: '/auth/session', headers: withSession(token) }))
          .statusCode,
      ).toBe(200);
      expect(
        (await server.tessera.stores.sessions.findSession(token.split('.')[0] as string))?.lastSeenAt,
      ).toBe(server.clock.now());

      const logout = await server.app.inject({
        method: 'POST',
        url: '/auth/logout',
        headers: withSession(token),
      });
      expect(logout.statusCode).toBe(204);
      const replay = await server.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: withSession(token),
      });
      expect(replay.statusCode).toBe(401);
      expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('jwt mode on two nodes sharing one schema: login on one, refresh and logout on the other', async () => {
    const schema = testSchema();
    const env = {
      TESSERA_MODE: 'jwt',
      TESSERA_DATABASE_URL: url,
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TESSERA_ISSUER: 'https://auth.example.com',
    };
    const a = await startTessera({ env, stores: await openPostgresStores(url, { poolSize: 4, schema }) });
    const b = await startTessera({ env, stores: await openPostgresStores(url, { poolSize: 4, schema }) });
    try {
      const email = newEmail();
      expect((await post(a.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
      const login = await post(a.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(login.statusCode, login.body).toBe(200);
      const { accessToken, refreshToken, session } = login.json();
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

      // Node b verifies node a's access token with the signing keys both load from the database.
      const onB = await b.app.inject({ method: 'GET', url: '/auth/session', headers: bearer(accessToken) });
      expect(onB.statusCode, onB.body).toBe(200);
      expect(onB.json().session).toMatchObject({ id: session.id, mode: 'jwt' });

      const refreshed = await post(b.app, '/auth/refresh', { refreshToken });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      const pair = refreshed.json();
      expect(pair.refreshToken).not.toBe(refreshToken);
      const onA = await a.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: bearer(pair.accessToken),
      });
      expect(onA.statusCode).toBe(200);
      // The cookie transport reads the same access token.
      const viaCookie = await a.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: { cookie: `${ACCESS_TOKEN_COOKIE}=${pair.accessToken}` },
      });
      expect(viaCookie.statusCode).toBe(200);

      const logout = await a.app.inject({
        method: 'POST',
        url: '/auth/logout',
        headers: bearer(pair.accessToken),
      });
      expect(logout.statusCode).toBe(204);
      expect((await post(b.app, '/auth/refresh', { refreshToken: pair.refreshToken })).statusCode).toBe(401);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
