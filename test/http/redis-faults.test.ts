import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../../src/http/app.js';
import {
  newEmail,
  PASSWORD,
  post,
  registerAndLogin,
  startTessera,
  type TestServer,
  tempDir,
  withSession,
} from '../helpers.js';
import { deleteRedisKeys, describeWithRedis, uniqueRedisPrefix } from '../services.js';
import type { TcpProxy } from '../tcp-proxy.js';
import { hostPort, startTcpProxy } from '../tcp-proxy.js';

/**
 * Redis faults, tested: each Tessera here reaches Redis through a TCP proxy the test can cut
 * (like Redis stopping) and restore, without touching the Redis other test files share.
 */
await describeWithRedis('Redis faults', (url) => {
  const prefix = uniqueRedisPrefix();
  const servers: TestServer[] = [];
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
    for (const proxy of proxies) await proxy.close();
    await deleteRedisKeys(url, prefix);
  });

  const proxiedUrl = async () => {
    const proxy = await startTcpProxy(hostPort(url, 6379));
    proxies.push(proxy);
    const target = new URL(url);
    target.host = `127.0.0.1:${proxy.port}`;
    return { proxy, url: target.toString() };
  };
  const start = async (env: Record<string, string>, app?: AppOptions) => {
    const server = await startTessera({ env: { TESSERA_REDIS_PREFIX: prefix, ...env }, app });
    servers.push(server);
    return server;
  };
  const get = (app: FastifyInstance, path: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: path, headers });

  describe('session mode', () => {
    it('Redis stops: 503 store_unavailable at once, /healthz names Redis; service resumes by itself', async () => {
      const redis = await proxiedUrl();
      const { app, tessera } = await start({ TESSERA_REDIS_URL: redis.url });
      expect(tessera.stores.engine).toBe('sqlite+redis');
      expect((await get(app, '/healthz')).json()).toEqual({
        status: 'ok',
        store: 'sqlite+redis',
        redis: 'ok',
      });
      const { token, email } = await registerAndLogin(app);
      expect((await get(app, '/auth/session', withSession(token))).statusCode).toBe(200);

      await redis.proxy.cut();
      const started = Date.now();
      const refused = await get(app, '/auth/session', withSession(token));
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: 'store_unavailable' });
      // A logout cannot be confirmed either: it fails rather than leave a copy behind.
      const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: withSession(token) });
      expect(logout.statusCode).toBe(503);
      const login = await post(app, '/auth/login', { email, password: PASSWORD });
      expect(login.statusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000); // no request hangs
      const health = await get(app, '/healthz');
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({
        error: 'store_unavailable',
        status: 'unavailable',
        store: 'sqlite+redis',
        redis: 'down',
        down: ['redis'],
      });

      await redis.proxy.restore();
      await expect
        .poll(async () => (await get(app, '/healthz')).statusCode, { timeout: 5_000, interval: 100 })
        .toBe(200);
      // The logout that failed did not happen; the session is exactly as it was.
      expect((await get(app, '/auth/session', withSession(token))).statusCode).toBe(200);
      expect(
        (await app.inject({ method: 'POST', url: '/auth/logout', headers: withSession(token) })).statusCode,
      ).toBe(204);
      expect((await get(app, '/auth/session', withSession(token))).statusCode).toBe(401);
    });
  });

  describe('rate limits on Redis', () => {
    const policy = {
      free: 3,
      baseSeconds: 60,
      maxSeconds: 60,
      windowSeconds: 60,
      onSuccess: 'reset' as const,
    };
    const rateLimits = { policy: { login: { ip: { ...policy, free: 1_000 }, account: policy } } };

    it('counts failed logins across nodes, and fails closed (503) when Redis is down', async () => {
      const redis = await proxiedUrl();
      const env = { TESSERA_REDIS_URL: redis.url, TESSERA_RATE_LIMIT: 'on' };
      const a = await start(env, { logger: false, rateLimits });
      const b = await start({ ...env, TESSERA_REDIS_URL: url }, { logger: false, rateLimits });
      const email = newEmail();
      const attempt = (node: TestServer) =>
        post(node.app, '/auth/login', { email, password: 'wrong password!' });
      expect((await attempt(a)).statusCode).toBe(401);
      expect((await attempt(b)).statusCode).toBe(401);
      expect((await attempt(a)).statusCode).toBe(401);
      // The fourth failure for this account, on the other node: over the shared allowance.
      expect((await attempt(b)).statusCode).toBe(401);
      const blocked = await attempt(a);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error).toBe('rate_limited');

      await redis.proxy.cut();
      const down = await post(a.app, '/auth/login', { email: newEmail(), password: PASSWORD });
      expect(down.statusCode).toBe(503);
      expect(down.json().error).toBe('store_unavailable');
      await redis.proxy.restore();
    });
  });

  describe('hybrid mode', () => {
    const loginOn = async (app: FastifyInstance) => {
      const email = newEmail();
      await post(app, '/auth/register', { email, password: PASSWORD });
      const body = (
        await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
      ).json();
      return {
        headers: { authorization: `Bearer ${body.accessToken}` },
        refreshToken: body.refreshToken as string,
      };
    };
    const statusOn = async (app: FastifyInstance, device: { headers: Record<string, string> }) => {
      const response = await get(app, '/auth/session', device.headers);
      return response.statusCode === 200 ? 200 : (response.json().error as string);
    };
    const logoutOn = (app: FastifyInstance, device: { headers: Record<string, string> }) =>
      app.inject({ method: 'POST', url: '/auth/logout', headers: device.headers });

    it('revocations travel by Redis pub/sub; a node that loses Redis keeps verifying and catches up from the log', async () => {
      const database = `sqlite://${join(tempDir(), 'shared.db')}`;
      const redis = await proxiedUrl();
      const common = { TESSERA_MODE: 'hybrid', TESSERA_DATABASE_URL: database };
      const a = await start({ ...common, TESSERA_REDIS_URL: url });
      const b = await start({ ...common, TESSERA_REDIS_URL: redis.url });
      b.tessera.startBackgroundJobs(() => {});

      const first = await loginOn(a.app);
      expect(await statusOn(b.app, first)).toBe(200);
      await logoutOn(a.app, first);
      await expect.poll(() => statusOn(b.app, first), { timeout: 1_000, interval: 10 }).toBe('token_revoked');

      await redis.proxy.cut();
      const second = await loginOn(a.app);
      // Access tokens need no Redis: b keeps serving them.
      expect(await statusOn(b.app, second)).toBe(200);
      // What needs the session store (a refresh) fails cleanly.
      const refresh = await post(b.app, '/auth/refresh', { refreshToken: second.refreshToken });
      expect(refresh.statusCode).toBe(503);
      await logoutOn(a.app, second);
      // No pub/sub reaches b now: its catch-up from the revocation log does, within the 2 s poll.
      await expect
        .poll(() => statusOn(b.app, second), { timeout: 3_000, interval: 50 })
        .toBe('token_revoked');

      await redis.proxy.restore();
      await expect
        .poll(async () => (await get(b.app, '/healthz')).statusCode, { timeout: 5_000, interval: 100 })
        .toBe(200);
      const third = await loginOn(a.app);
      expect(await statusOn(b.app, third)).toBe(200);
      await logoutOn(a.app, third);
      await expect.poll(() => statusOn(b.app, third), { timeout: 1_000, interval: 10 }).toBe('token_revoked');
    });
  });
});
