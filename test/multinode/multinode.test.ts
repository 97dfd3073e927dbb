import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteRedisKeys,
  dropTestSchemas,
  serviceUrlOrSkip,
  testSchema,
  uniqueRedisPrefix,
} from '../services.js';
import {
  assertBuilt,
  bearerLogin,
  call,
  credentialOf,
  type Node,
  registerAndLogin,
  runCli,
  schemaUrl,
  startNode,
  stopNode,
  untilRefused,
} from './cluster.js';

/**
 * Three Tessera server processes on loopback ports, sharing PostgreSQL (a schema of their own)
 * and Redis (a key prefix of their own), as behind a load balancer: what one node does, the
 * others honour, within each mode's bound. Bearer clients throughout (no cookies, no CSRF).
 */
const pgUrl = await serviceUrlOrSkip('postgres', 'multi-node test');
const redisUrl = await serviceUrlOrSkip('redis', 'multi-node test');

const PASSWORD = 'correct horse battery staple';
const ADMIN = `admin.${process.pid}@example.com`;
/** The bounds each mode promises, with the settings below. */
const HYBRID_BOUND_MS = 1_000;
const ACCESS_TOKEN_TTL_S = 10;
const CLOCK_SKEW_S = 1;

let emails = 0;
const newEmail = () => `node-user${++emails}.${process.pid}@example.com`;

describe.skipIf(pgUrl === undefined || redisUrl === undefined)(
  'three nodes sharing PostgreSQL and Redis',
  () => {
    const all: Node[] = [];
    let env: Record<string, string>;
    let prefix: string;

    beforeAll(async () => {
      assertBuilt();
      prefix = uniqueRedisPrefix();
      env = {
        TESSERA_DATABASE_URL: await schemaUrl(pgUrl as string, testSchema()),
        TESSERA_REDIS_URL: redisUrl as string,
        TESSERA_REDIS_PREFIX: prefix,
        // Settings every node must share (docs/DEPLOY.md).
        TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        TESSERA_CSRF_SECRET: randomBytes(32).toString('hex'),
        TESSERA_ISSUER: 'https://auth.example.test',
        TESSERA_ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL_S}s`,
        TESSERA_CLOCK_SKEW: `${CLOCK_SKEW_S}s`,
        TESSERA_REFRESH_REUSE_GRACE: '1s',
        // One test client makes every login from 127.0.0.1; test/http/redis-faults covers limits.
        TESSERA_RATE_LIMIT: 'off',
      };
      // The admin, from the CLI against the same database; in hybrid mode, so the signing keys
      // exist before any node starts (nodes starting together would each create some).
      // Only serve and migrate create a database's tables; the other commands refuse an empty one.
      expect((await runCli(['migrate'], env)).code).toBe(0);
      const created = await runCli(
        ['users', 'create', '--email', ADMIN, '--role', 'admin'],
        { ...env, TESSERA_MODE: 'hybrid' },
        `${PASSWORD}\n`,
      );
      expect(created.code, created.stderr).toBe(0);
    });

    afterAll(async () => {
      await Promise.all(all.map((node) => stopNode(node)));
      await dropTestSchemas(pgUrl as string);
      await deleteRedisKeys(redisUrl as string, prefix);
    });

    /**
     * Three nodes of one mode, started together, once. Starting a node costs ~1.5 s of CPU, so
     * the jwt test starts the other modes' nodes while it waits for its access tokens to expire.
     */
    const clusters = new Map<string, Promise<[Node, Node, Node]>>();
    const cluster = (mode: string): Promise<[Node, Node, Node]> => {
      let nodes = clusters.get(mode);
      if (!nodes) {
        nodes = Promise.all(
          [1, 2, 3].map(async (i) => {
            const node = await startNode(`${mode} node ${i}`, { ...env, TESSERA_MODE: mode });
            all.push(node);
            return node;
          }),
        ) as Promise<[Node, Node, Node]>;
        nodes.catch(() => undefined); // awaited (and reported) by the mode's own tests
        clusters.set(mode, nodes);
      }
      return nodes;
    };
    const stopAll = (nodes: Node[]) => Promise.all(nodes.map((node) => stopNode(node)));

    /** Round-robin over the nodes, as a load balancer would spread requests. */
    const roundRobin = (nodes: Node[]) => {
      let i = 0;
      return () => nodes[i++ % nodes.length] as Node;
    };
    const sessionStatus = (node: Node, token: string) => call(node, 'GET', '/auth/session', { token });
    const accepted = async (node: Node, token: string) => (await sessionStatus(node, token)).status === 200;
    const userIdOf = (login: Record<string, unknown>) => (login.user as { id: string }).id;

    describe('jwt mode', () => {
      let n1: Node;
      let n2: Node;
      let n3: Node;
      let admin: string;
      let next: () => Node;
      beforeAll(async () => {
        [n1, n2, n3] = await cluster('jwt');
        next = roundRobin([n1, n2, n3]);
        admin = credentialOf(await bearerLogin(n3, ADMIN, PASSWORD));
      });
      afterAll(() => stopAll([n1, n2, n3]));

      it(`a logout, a lock and a role change on node 3: refresh fails at once, access tokens end at expiry (TTL ${ACCESS_TOKEN_TTL_S} s + skew ${CLOCK_SKEW_S} s)`, async () => {
        const loggedOut = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const lockedLogin = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const demotedEmail = newEmail();
        const demotedId = userIdOf(await registerAndLogin(next(), n1, demotedEmail, PASSWORD));
        const setRoles = (roles: string[]) =>
          call(n3, 'PUT', `/admin/api/users/${demotedId}/roles`, { token: admin, body: { roles } });
        expect((await setRoles(['admin'])).status).toBe(200);
        const demoted = await bearerLogin(n1, demotedEmail, PASSWORD);
        const tokens = [loggedOut, lockedLogin, demoted].map(credentialOf);
        for (const token of tokens)
          for (const node of [n2, n3]) expect(await accepted(node, token)).toBe(true);

        expect((await call(n3, 'POST', '/auth/logout', { token: credentialOf(loggedOut) })).status).toBe(204);
        const lock = await call(n3, 'POST', `/admin/api/users/${userIdOf(lockedLogin)}/lock`, {
          token: admin,
          body: { reason: 'card reported stolen' },
        });
        expect(lock.status).toBe(200);
        const demotion = await setRoles([]);
        expect(demotion.body).toMatchObject({
          appliesAt: 'next_refresh',
          maxDelaySeconds: ACCESS_TOKEN_TTL_S,
        });

        // At once: the refresh tokens are dead on every node, and the control plane reads stored roles.
        for (const [node, login] of [
          [n1, loggedOut],
          [n2, lockedLogin],
        ] as const) {
          const refresh = await call(node, 'POST', '/auth/refresh', {
            body: { refreshToken: login.refreshToken },
          });
          expect(refresh.status).toBe(401);
        }
        for (const node of [n1, n2]) {
          expect((await call(node, 'GET', '/admin/api/users', { token: credentialOf(demoted) })).status).toBe(
            403,
          );
        }
        // Meanwhile the next modes' nodes start (CPU this test does not need while it waits).
        void cluster('session');
        void cluster('hybrid');
        // The access tokens themselves: that is jwt mode, they verify until they expire.
        for (const token of tokens)
          for (const node of [n1, n2]) expect(await accepted(node, token)).toBe(true);
        const stillAdmin = await sessionStatus(n2, credentialOf(demoted));
        expect((stillAdmin.body.user as { roles: string[] }).roles).toEqual(['admin']);

        const expiresAt = Math.max(
          ...tokens.map(
            (t) => JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()).exp,
          ),
        );
        const deadline = expiresAt * 1000 + CLOCK_SKEW_S * 1000;
        const waited = await untilRefused(
          [n1, n2],
          async (node) => {
            const replies = await Promise.all(tokens.map((token) => sessionStatus(node, token)));
            return replies.every((r) => r.status === 401 && r.body.error === 'token_expired');
          },
          deadline - Date.now() + 1_500,
        );
        // Refused no later than the bound (plus this poll's own slack)…
        expect(Date.now()).toBeLessThan(deadline + 1_500);
        console.log(
          `jwt: access tokens refused on nodes 1 and 2 ${waited.toFixed(0)} ms after the revocations`,
        );
        // …and the demoted user's next refresh carries the new roles.
        const renewed = await call(n2, 'POST', '/auth/refresh', {
          body: { refreshToken: demoted.refreshToken },
        });
        expect(renewed.status).toBe(200);
        const after = await sessionStatus(n1, renewed.body.accessToken as string);
        expect((after.body.user as { roles: string[] }).roles).toEqual([]);
      });
    });

    describe('session mode', () => {
      let n1: Node;
      let n2: Node;
      let n3: Node;
      let admin: string;
      let next: () => Node;
      beforeAll(async () => {
        [n1, n2, n3] = await cluster('session');
        next = roundRobin([n1, n2, n3]);
        admin = credentialOf(await bearerLogin(n3, ADMIN, PASSWORD));
      });
      afterAll(() => stopAll([n1, n2, n3]));

      it('a login on node 1 is valid on nodes 2 and 3, and on whichever node comes next', async () => {
        const token = credentialOf(await registerAndLogin(next(), n1, newEmail(), PASSWORD));
        for (const node of [n2, n3, next(), next(), next()]) expect(await accepted(node, token)).toBe(true);
      });

      it('a logout, a lock and a role change on node 3 are refused on nodes 1 and 2 at once', async () => {
        const loggedOut = credentialOf(await registerAndLogin(next(), n1, newEmail(), PASSWORD));
        expect((await call(n3, 'POST', '/auth/logout', { token: loggedOut })).status).toBe(204);
        for (const node of [n1, n2]) expect((await sessionStatus(node, loggedOut)).status).toBe(401);

        const lockedLogin = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const locked = credentialOf(lockedLogin);
        expect(await accepted(n2, locked)).toBe(true);
        const lock = await call(n3, 'POST', `/admin/api/users/${userIdOf(lockedLogin)}/lock`, {
          token: admin,
          body: { reason: 'card reported stolen' },
        });
        expect(lock.status).toBe(200);
        for (const node of [n1, n2]) expect((await sessionStatus(node, locked)).status).toBe(401);

        const promotedLogin = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const promoted = credentialOf(promotedLogin);
        const roles = (list: string[]) =>
          call(n3, 'PUT', `/admin/api/users/${userIdOf(promotedLogin)}/roles`, {
            token: admin,
            body: { roles: list },
          });
        expect((await roles(['admin'])).status).toBe(200);
        // Node 1 sees the new role at once: past the role check, the admin policy now asks this
        // password-only login for a second factor (TESSERA_MFA_REQUIRED_ROLES), not for the role.
        const asAdmin = await call(n1, 'GET', '/admin/api/users', { token: promoted });
        expect([asAdmin.status, asAdmin.body.error]).toEqual([403, 'mfa_required']);
        expect((await roles([])).status).toBe(200);
        for (const node of [n1, n2]) {
          const demoted = await call(node, 'GET', '/admin/api/users', { token: promoted });
          expect([demoted.status, demoted.body.error]).toEqual([403, 'forbidden']);
          expect(((await sessionStatus(node, promoted)).body.user as { roles: string[] }).roles).toEqual([]);
        }
      });

      it('a node killed mid-traffic (SIGKILL): clients of the other nodes see no errors', async () => {
        const onNode3 = credentialOf(await registerAndLogin(next(), n3, newEmail(), PASSWORD));
        const clients = await Promise.all(
          [n1, n2, n1, n2].map(async (node) => ({
            node,
            token: credentialOf(await registerAndLogin(node, node, newEmail(), PASSWORD)),
          })),
        );
        const statuses: number[] = [];
        const errors: string[] = [];
        let stop = false;
        const traffic = clients.map(async ({ node, token }, i) => {
          for (let request = 0; !stop; request++) {
            try {
              // Mostly validations, and now and then a fresh login and logout: writes too.
              if (i === 0 && request % 10 === 5) {
                const login = await registerAndLogin(node, node, newEmail(), PASSWORD);
                const logout = await call(node, 'POST', '/auth/logout', { token: credentialOf(login) });
                statuses.push(logout.status === 204 ? 200 : logout.status);
              } else {
                statuses.push((await sessionStatus(node, token)).status);
              }
            } catch (error) {
              errors.push(`${node.name}: ${(error as Error).message}`);
            }
          }
        });
        await new Promise((r) => setTimeout(r, 400));
        await stopNode(n3, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 800));
        stop = true;
        await Promise.all(traffic);
        expect(errors).toEqual([]);
        expect(statuses.length).toBeGreaterThan(50);
        expect(statuses.filter((s) => s !== 200)).toEqual([]);
        // Its logins were never its own: the session made on node 3 lives on.
        expect(await accepted(n1, onNode3)).toBe(true);
        await expect(call(n3, 'GET', '/healthz')).rejects.toThrow();
      });
    });

    describe('hybrid mode (Redis bus)', () => {
      let n1: Node;
      let n2: Node;
      let n3: Node;
      let admin: string;
      let next: () => Node;
      const delays: Record<string, number> = {};
      beforeAll(async () => {
        [n1, n2, n3] = await cluster('hybrid');
        next = roundRobin([n1, n2, n3]);
        admin = credentialOf(await bearerLogin(n3, ADMIN, PASSWORD));
      });
      afterAll(async () => {
        console.log(
          `hybrid, Redis bus: revocation on node 3 refused on nodes 1 and 2 after ${Object.entries(delays)
            .map(([what, ms]) => `${what} ${ms.toFixed(1)} ms`)
            .join(', ')}`,
        );
        await stopAll([n1, n2, n3]);
      });
      const revoked = async (node: Node, token: string) => {
        const reply = await sessionStatus(node, token);
        return reply.status === 401 && reply.body.error === 'token_revoked';
      };

      it('a login on node 1 is valid on nodes 2 and 3', async () => {
        const token = credentialOf(await registerAndLogin(next(), n1, newEmail(), PASSWORD));
        for (const node of [n2, n3, next()]) expect(await accepted(node, token)).toBe(true);
      });

      it(`a logout, a lock and a role change on node 3 are refused on nodes 1 and 2 within ${HYBRID_BOUND_MS} ms`, async () => {
        const loggedOut = credentialOf(await registerAndLogin(next(), n1, newEmail(), PASSWORD));
        expect(await accepted(n2, loggedOut)).toBe(true);
        expect((await call(n3, 'POST', '/auth/logout', { token: loggedOut })).status).toBe(204);
        delays.logout = await untilRefused([n1, n2], (node) => revoked(node, loggedOut), HYBRID_BOUND_MS);

        const lockedLogin = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const locked = credentialOf(lockedLogin);
        expect(await accepted(n2, locked)).toBe(true);
        const lock = await call(n3, 'POST', `/admin/api/users/${userIdOf(lockedLogin)}/lock`, {
          token: admin,
          body: { reason: 'card reported stolen' },
        });
        expect(lock.status).toBe(200);
        delays.lock = await untilRefused([n1, n2], (node) => revoked(node, locked), HYBRID_BOUND_MS);
        // Its refresh token is dead as well, on every node.
        const refresh = await call(n1, 'POST', '/auth/refresh', {
          body: { refreshToken: lockedLogin.refreshToken },
        });
        expect(refresh.status).toBe(401);

        const changedLogin = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const changed = credentialOf(changedLogin);
        expect(await accepted(n2, changed)).toBe(true);
        const roles = await call(n3, 'PUT', `/admin/api/users/${userIdOf(changedLogin)}/roles`, {
          token: admin,
          body: { roles: ['teller'] },
        });
        expect(roles.body).toMatchObject({ roles: ['teller'], appliesAt: 'next_request' });
        delays.roles = await untilRefused([n1, n2], (node) => revoked(node, changed), HYBRID_BOUND_MS);
        // The client refreshes (on node 1) and carries the new roles everywhere.
        const renewed = await call(n1, 'POST', '/auth/refresh', {
          body: { refreshToken: changedLogin.refreshToken },
        });
        expect(renewed.status).toBe(200);
        const after = await sessionStatus(n2, renewed.body.accessToken as string);
        expect((after.body.user as { roles: string[] }).roles).toEqual(['teller']);
      });

      it('the same refresh token on two nodes at once continues the family once, without a theft alarm; a replay after the grace window ends it everywhere', async () => {
        const login = await registerAndLogin(next(), n1, newEmail(), PASSWORD);
        const userId = userIdOf(login);
        const sid = (login.session as { id: string }).id;
        const refresh = (node: Node, refreshToken: unknown) =>
          call(node, 'POST', '/auth/refresh', { body: { refreshToken } });
        const [a, b] = await Promise.all([refresh(n2, login.refreshToken), refresh(n3, login.refreshToken)]);
        expect([a.status, b.status]).toEqual([200, 200]);
        for (const pair of [a, b]) {
          const claims = JSON.parse(
            Buffer.from((pair.body.accessToken as string).split('.')[1] as string, 'base64url').toString(),
          );
          expect(claims.sid).toBe(sid); // the same login continues
          for (const node of [n1, n2, n3])
            expect(await accepted(node, pair.body.accessToken as string)).toBe(true);
        }
        const sessions = await call(n1, 'GET', `/admin/api/sessions?user=${userId}`, { token: admin });
        expect((sessions.body.sessions as unknown[]).length).toBe(1);
        const alarms = await call(n2, 'GET', `/admin/api/audit?user=${userId}&type=token.reuse_detected`, {
          token: admin,
        });
        expect(alarms.body.events).toEqual([]);
        // The client goes on with one of the two (node 1 rotates it normally).
        const onward = await refresh(n1, a.body.refreshToken);
        expect(onward.status).toBe(200);

        await new Promise((r) => setTimeout(r, 1_200)); // past TESSERA_REFRESH_REUSE_GRACE
        const replay = await refresh(n2, login.refreshToken);
        expect(replay.status).toBe(401);
        expect(replay.body.error).toBe('token_reused');
        delays.reuse = await untilRefused(
          [n1, n2, n3],
          (node) => revoked(node, onward.body.accessToken as string),
          HYBRID_BOUND_MS,
        );
        expect((await refresh(n3, onward.body.refreshToken)).status).toBe(401);
        const raised = await call(n3, 'GET', `/admin/api/audit?user=${userId}&type=token.reuse_detected`, {
          token: admin,
        });
        expect((raised.body.events as unknown[]).length).toBe(1);
      });
    });
  },
);
