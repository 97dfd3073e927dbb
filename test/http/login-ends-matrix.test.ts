import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from '../services.js';

/**
 * The table "What ends when a login ends" (docs/SECURITY.md), one test per event and mode.
 * A user holds: the acting login A (a bearer device), another login B, an API key K and a
 * delegation O (an OAuth login, as a code exchange makes it). After each event the test
 * observes each credential the way an attacker holding it would use it:
 *   - a login's credential on a state-changing route (every route but GET /auth/session checks
 *     the login is live), and (jwt, hybrid) its refresh token;
 *   - the key as a resource server checks it; the delegation's login record.
 */
type Mode = 'session' | 'jwt' | 'hybrid';
type Engine = 'sqlite' | 'postgres';
const pgUrl = await serviceUrlOrSkip('postgres', 'what ends when a login ends, on PostgreSQL');
const ENGINES: Engine[] = pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];
const servers: TestServer[] = [];
// Each test's server closes after it: dozens of idle PostgreSQL pools went past max_connections.
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  if (pgUrl) await dropTestSchemas(pgUrl);
});

async function start(mode: Mode, engine: Engine): Promise<TestServer> {
  const server =
    engine === 'sqlite'
      ? await startTessera({ env: { TESSERA_MODE: mode } })
      : await startTessera({
          env: {
            TESSERA_MODE: mode,
            TESSERA_DATABASE_URL: pgUrl as string,
            TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
          },
          stores: await openPostgresStores(pgUrl as string, { poolSize: 4, schema: testSchema() }),
        });
  servers.push(server);
  return server;
}

const CLI = { actorId: null, client: { ip: 'cli', userAgent: 'cli' } };
const NEW_PASSWORD = 'a different long passphrase 42';
const GRACE_MS = 10_000;

interface Device {
  userId: string;
  sessionId: string;
  headers: Record<string, string>;
  refreshToken?: string;
}

async function login(app: FastifyInstance, email: string): Promise<Device> {
  const response = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return {
    userId: body.user.id,
    sessionId: body.session.id,
    headers: { authorization: `Bearer ${body.token ?? body.accessToken}` },
    refreshToken: body.refreshToken,
  };
}

/** Everything the user holds, set up fresh for each event. */
async function holdings(server: TestServer) {
  const { app, tessera } = server;
  const email = newEmail();
  await tessera.accounts.register({ email, password: PASSWORD }, ['teller']);
  const [a, b] = [await login(app, email), await login(app, email)];
  const created = await app.inject({
    method: 'POST',
    url: '/auth/api-keys',
    headers: a.headers,
    payload: { name: 'export', scopes: ['accounts:read'], password: PASSWORD },
  });
  expect(created.statusCode, created.body).toBe(201);
  const delegation = tessera.sessions.oauthFamilyRecord(
    `oauth-${a.sessionId}`,
    a.userId,
    { ip: '203.0.113.9', userAgent: 'Budget Buddy' },
    { clientId: 'budget-buddy', scopes: ['accounts:read'], audience: 'https://api.example' },
    { authTime: tessera.runtime.now(), amr: ['pwd'] },
  );
  await tessera.stores.sessions.createSession(delegation);
  return { email, a, b, key: created.json().key as string, delegationId: delegation.id };
}
type Holdings = Awaited<ReturnType<typeof holdings>>;

/** What still works after the event: true = live or accepted, false = ended or refused. */
async function observe(server: TestServer, mode: Mode, held: Holdings) {
  const { app, tessera } = server;
  const live = async (id: string) => (await tessera.sessions.find(id)) !== undefined;
  const acts = async (device: Device) =>
    (await app.inject({ method: 'GET', url: '/auth/sessions', headers: device.headers })).statusCode === 200;
  const refreshes = async (device: Device) =>
    mode === 'session'
      ? undefined
      : (await post(app, '/auth/refresh', { refreshToken: device.refreshToken })).statusCode === 200;
  return {
    a: await live(held.a.sessionId),
    b: await live(held.b.sessionId),
    key: (await tessera.oauth.apiKeys.verify(held.key)) !== undefined,
    delegation: await live(held.delegationId),
    aActs: await acts(held.a),
    bActs: await acts(held.b),
    // The refresh tokens last: a successful refresh rotates them.
    aRefreshes: await refreshes(held.a),
    bRefreshes: await refreshes(held.b),
  };
}

type Event = (server: TestServer, held: Holdings, mode: Mode) => Promise<void>;
const call = (server: TestServer, device: Device, method: 'POST' | 'PUT', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: device.headers, ...(payload && { payload }) });

const ALL_ENDED = { a: false, b: false, key: false, delegation: false };
const ONLY_A_ENDED = { a: false, b: true, key: true, delegation: true };
const NOTHING_ENDED = { a: true, b: true, key: true, delegation: true };

/** event → what it does, and what is left afterwards (refresh tokens follow their logins). */
const EVENTS: Array<[string, Event, Record<string, boolean>, Mode[]?]> = [
  [
    'logout',
    async (server, held) => {
      expect((await call(server, held.a, 'POST', '/auth/logout')).statusCode).toBe(204);
    },
    ONLY_A_ENDED,
  ],
  [
    'logout-all',
    async (server, held) => {
      expect((await call(server, held.a, 'POST', '/auth/logout-all')).statusCode).toBe(200);
    },
    ALL_ENDED,
  ],
  [
    'password change',
    async (server, held) => {
      const response = await call(server, held.a, 'POST', '/auth/password', {
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
      });
      expect(response.statusCode, response.body).toBe(200);
      // The acting device continues under the new credentials it was given.
      const body = response.json();
      held.a.headers = { authorization: `Bearer ${body.token ?? body.accessToken}` };
      held.a.refreshToken = body.refreshToken;
    },
    { a: true, b: false, key: false, delegation: false },
  ],
  [
    'lock',
    async (server, held) => {
      await server.tessera.control.lockUser(held.a.userId, 'card reported stolen', CLI);
    },
    ALL_ENDED,
  ],
  [
    'unlock (after a lock)',
    async (server, held) => {
      await server.tessera.control.lockUser(held.a.userId, 'card reported stolen', CLI);
      await server.tessera.control.unlockUser(held.a.userId, CLI);
    },
    ALL_ENDED,
  ],
  [
    'role change',
    async (server, held) => {
      await server.tessera.control.setRoles(held.a.userId, ['auditor'], CLI);
    },
    // Logins continue under the new roles (the state-changing routes read the stored roles).
    NOTHING_ENDED,
  ],
  [
    'reuse detection',
    async (server, held) => {
      const first = await post(server.app, '/auth/refresh', { refreshToken: held.a.refreshToken });
      expect(first.statusCode).toBe(200);
      server.clock.advance(GRACE_MS + 1_000);
      const replay = await post(server.app, '/auth/refresh', { refreshToken: held.a.refreshToken });
      expect(replay.json().error).toBe('token_reused');
      held.a.headers = { authorization: `Bearer ${first.json().accessToken}` };
      held.a.refreshToken = first.json().refreshToken;
    },
    ONLY_A_ENDED,
    ['jwt', 'hybrid'],
  ],
  [
    'admin revoke (one login)',
    async (server, held) => {
      expect(await server.tessera.control.revokeSession(held.a.sessionId, CLI)).toBe(true);
    },
    ONLY_A_ENDED,
  ],
  [
    "admin revoke (all of a user's logins)",
    async (server, held) => {
      await server.tessera.control.revokeUserSessions(held.a.userId, CLI);
    },
    ALL_ENDED,
  ],
  [
    'log everyone out',
    async (server) => {
      await server.tessera.control.logoutEveryone(CLI);
    },
    ALL_ENDED,
  ],
  [
    'expiry (idle timeout)',
    async (server) => {
      server.clock.advance(31 * 60_000);
    },
    // Every login idles out; a key has its own expiry (90 days by default) and stays.
    { a: false, b: false, key: true, delegation: false },
  ],
];

const GROUPS = ENGINES.flatMap((engine) =>
  (['session', 'jwt', 'hybrid'] as const).map((mode) => [mode, engine] as const),
);

describe.each(GROUPS)('what ends when a login ends (%s mode, %s)', (mode, engine) => {
  for (const [event, act, expected, modes] of EVENTS) {
    if (modes && !modes.includes(mode)) continue;
    it(event, async () => {
      const server = await start(mode, engine);
      const held = await holdings(server);
      await act(server, held, mode);
      // A live login's credentials work and an ended one's do not; the one exception: after a
      // role change, hybrid mode revokes the access tokens at once (the logins refresh).
      const tokensRevoked = mode === 'hybrid' && event === 'role change';
      expect(await observe(server, mode, held)).toEqual({
        ...expected,
        aActs: expected.a && !tokensRevoked,
        bActs: expected.b && !tokensRevoked,
        aRefreshes: mode === 'session' ? undefined : expected.a,
        bRefreshes: mode === 'session' ? undefined : expected.b,
      });
    });
  }
});
