import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import type { SqlStores } from '../../src/store/sql/stores.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';

/**
 * Issue 14, hole 3: whatever ends a refresh token ends it with no grace, and racing refreshes
 * leave one live token. Over real HTTP (the server listens on a port; requests are real
 * parallel fetches), in jwt and hybrid modes, on SQLite and PostgreSQL.
 */
type Start = (mode: 'jwt' | 'hybrid') => Promise<TestServer>;

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function listening(server: TestServer): Promise<string> {
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
}

/** The family's tokens still live, read from the SQL store itself. */
async function liveTokensOf(server: TestServer, sessionId: string): Promise<number> {
  const { db } = server.tessera.stores as SqlStores;
  const { rows } = await sql<{ live: number | string }>`
    select count(*) as live from refresh_tokens where session_id = ${sessionId} and retired_at is null`.execute(
    db,
  );
  return Number(rows[0]?.live);
}

const sidOf = (accessToken: string) =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()) as { sid: string })
    .sid;

function rotationSuite(engine: string, start: Start): void {
  for (const mode of ['jwt', 'hybrid'] as const) {
    describe(`${mode} mode on ${engine}`, () => {
      const session = async () => {
        const server = await start(mode);
        servers.push(server);
        const email = newEmail();
        await post(server.app, '/auth/register', { email, password: PASSWORD });
        const login = await post(server.app, '/auth/login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        });
        expect(login.statusCode, login.body).toBe(200);
        const pair = login.json() as { accessToken: string; refreshToken: string; user: { id: string } };
        return { server, email, ...pair };
      };
      const refresh = (server: TestServer, refreshToken: string) =>
        post(server.app, '/auth/refresh', { refreshToken });
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

      it('30 parallel refreshes with one token: all answered with the same successor, one live token', async () => {
        const { server, refreshToken, accessToken } = await session();
        const base = await listening(server);
        const responses = await Promise.all(
          Array.from({ length: 30 }, () =>
            fetch(`${base}/auth/refresh`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ refreshToken }),
            }).then(async (response) => ({
              status: response.status,
              body: (await response.json()) as never,
            })),
          ),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
        const successors = new Set(responses.map((r) => (r.body as { refreshToken: string }).refreshToken));
        expect(successors.size).toBe(1);
        const sid = sidOf(accessToken);
        expect(await liveTokensOf(server, sid)).toBe(1);
        // The successor carries the login on; the spent token then ends it.
        const next = await refresh(server, [...successors][0] as string);
        expect(next.statusCode).toBe(200);
        expect(await liveTokensOf(server, sid)).toBe(1);
      });

      it('a password change leaves no grace: a copy of the old refresh token at once is reuse, the family ends', async () => {
        const { server, refreshToken, accessToken } = await session();
        const change = await post(
          server.app,
          '/auth/password',
          { currentPassword: PASSWORD, newPassword: 'a different passphrase' },
          bearer(accessToken),
        );
        expect(change.statusCode, change.body).toBe(200);
        const reissued = change.json().refreshToken as string;
        if (mode === 'hybrid') {
          // The thief's cue: the old access token is refused at once...
          expect(
            (await server.app.inject({ method: 'GET', url: '/auth/session', headers: bearer(accessToken) }))
              .statusCode,
          ).toBe(401);
        }
        // ...and the old refresh token, the same instant (no clock moves), gets no fresh pair.
        const stolen = await refresh(server, refreshToken);
        expect(stolen.statusCode).toBe(401);
        expect(stolen.json().error).toBe('token_reused');
        expect((await refresh(server, reissued)).json().error).toBe('invalid_refresh_token');
      });

      it('a copy of an exchanged token presented after a password change is reuse too', async () => {
        const { server, refreshToken, accessToken } = await session();
        const rotated = (await refresh(server, refreshToken)).json() as { refreshToken: string };
        await post(
          server.app,
          '/auth/password',
          { currentPassword: PASSWORD, newPassword: 'a different passphrase' },
          bearer(accessToken),
        );
        // Within the grace window of the first exchange: the successor it would return is retired.
        expect((await refresh(server, refreshToken)).json().error).toBe('token_reused');
        expect((await refresh(server, rotated.refreshToken)).json().error).toBe('invalid_refresh_token');
      });

      it('logout-all and a lock end the family: a copy of the token gets no fresh pair, unlock revives nothing', async () => {
        const first = await session();
        const all = await first.server.app.inject({
          method: 'POST',
          url: '/auth/logout-all',
          headers: bearer(first.accessToken),
        });
        expect(all.statusCode).toBe(200);
        expect((await refresh(first.server, first.refreshToken)).statusCode).toBe(401);

        const second = await session();
        const now = { actorId: null, client: { ip: '::1', userAgent: 'test' } };
        await second.server.tessera.control.lockUser(second.user.id, 'stolen laptop', now);
        expect((await refresh(second.server, second.refreshToken)).statusCode).toBe(401);
        await second.server.tessera.control.unlockUser(second.user.id, now);
        expect((await refresh(second.server, second.refreshToken)).statusCode).toBe(401);
      });

      it('reuse detection ends the family with no grace: the successor a racing tab got is dead too', async () => {
        const { server, refreshToken } = await session();
        const successor = (await refresh(server, refreshToken)).json().refreshToken as string;
        server.clock.advance(10_001);
        expect((await refresh(server, refreshToken)).json().error).toBe('token_reused');
        // The successor was handed out (to the legitimate tab or the thief): nothing of the family lives.
        expect((await refresh(server, successor)).json().error).toBe('invalid_refresh_token');
      });
    });
  }
}

rotationSuite('sqlite', (mode) => startTessera({ env: { TESSERA_MODE: mode } }));

await describeWithPostgres('on PostgreSQL', (url) => {
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    await dropTestSchemas(url);
  });
  rotationSuite('postgres', async (mode) =>
    startTessera({
      env: {
        TESSERA_MODE: mode,
        TESSERA_DATABASE_URL: url,
        TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      },
      stores: await openPostgresStores(url, { poolSize: 4, schema: testSchema() }),
      bus: new InProcessBus(),
    }),
  );
});
