import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { MemoryStores } from '../../src/store/memory/stores.js';
import type { RevocationRecord, SessionRecord, Stores } from '../../src/store/ports/index.js';
import { parseRedisUrl, RedisConnection, redactRedisUrl } from '../../src/store/redis/connection.js';
import { RedisRevocationBus } from '../../src/store/redis/redis-bus.js';
import { withRedisSessionCache } from '../../src/store/redis/stores.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { deleteRedisKeys, describeWithRedis, uniqueRedisPrefix } from '../services.js';
import { hostPort, startPrivateRedis, startTcpProxy } from '../tcp-proxy.js';
import { eventsContract } from './events-contract.js';
import { storeContract } from './store-contract.js';

describe('TESSERA_REDIS_URL forms', () => {
  it('passes redis:// and rediss:// to ioredis, and reads a sentinel list', () => {
    expect(parseRedisUrl('redis://:pw@cache:6379/2')).toEqual({ redisUrl: 'redis://:pw@cache:6379/2' });
    expect(
      parseRedisUrl(
        'redis-sentinel://app:p%40ss@s1:26379,[::1]:26380,s3/mymaster/1?sentinelPassword=sp&tls=true',
      ),
    ).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
        { host: 's3', port: 26379 },
      ],
      name: 'mymaster',
      db: 1,
      username: 'app',
      password: 'p@ss',
      sentinelPassword: 'sp',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
    });
    expect(() => parseRedisUrl('redis-cluster://a:7000,b:7000')).toThrow(/must be/);
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(/must be/);
  });

  it('never shows a password', () => {
    expect(redactRedisUrl('redis://user:secret@cache:6379')).toBe('redis://user:***@cache:6379');
    expect(redactRedisUrl('redis-sentinel://:secret@a:1,b:2/m?sentinelPassword=x')).toBe(
      'redis-sentinel://:***@a:1,b:2/m?sentinelPassword=***',
    );
  });
});

// Every store and bus gets a key prefix of its own under this file's, deleted when the file ends.
await describeWithRedis('redis engine', (url) => {
  const filePrefix = uniqueRedisPrefix();
  const connections: RedisConnection[] = [];
  let n = 0;
  const connect = async (target = url) => {
    const connection = await RedisConnection.open({ url: target, prefix: `${filePrefix}${++n}:` });
    connections.push(connection);
    return connection;
  };
  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await deleteRedisKeys(url, filePrefix);
  });

  /** The contract's times are in 1970: with the clock at 0, every copy lives for the test. */
  const cached = async (inner: Stores, now = () => 0) => {
    const connection = await connect();
    const store = withRedisSessionCache(inner, {
      redis: connection.client,
      prefix: connection.settings.prefix,
      now,
    });
    return { store, inner, connection, raw: connection.client };
  };

  let files = 0;
  storeContract('memory+redis', async () => (await cached(new MemoryStores())).store);
  storeContract(
    'sqlite+redis',
    async () => (await cached(await openSqliteStores(join(tempDir(), `store-${++files}.db`)))).store,
  );
  // Endings (the sweep's too) keep the copies in step and still record their events.
  eventsContract(
    'sqlite+redis',
    async () => (await cached(await openSqliteStores(join(tempDir(), `store-${++files}.db`)))).store,
  );

  describe('session cache', () => {
    const NOW = Date.UTC(2026, 0, 1);
    let seq = 0;
    const session = (userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      id: `sess${++seq}x${Math.random().toString(36).slice(2, 10)}`,
      userId,
      mode: 'session',
      secretHash: 'ab'.repeat(32),
      createdAt: NOW,
      lastSeenAt: NOW,
      expiresAt: NOW + 3_600_000,
      ip: '203.0.113.7',
      userAgent: 'Firefox',
      authTime: 1,
      amr: ['pwd'],
      acr: 'aal1',
      ...overrides,
    });
    const setup = () => cached(new MemoryStores(), () => NOW);
    const copies = async (raw: RedisConnection['client'], ids: string[]) =>
      (await Promise.all(ids.map((id) => raw.exists(`s:${id}`)))).reduce((a, b) => a + b, 0);

    it('serves a created session from Redis without asking SQL', async () => {
      const { store, inner } = await setup();
      const s = session('alice');
      await store.sessions.createSession(s);
      inner.sessions.findSession = () => Promise.reject(new Error('SQL must not be asked'));
      expect(await store.sessions.findSession(s.id)).toEqual(s);
    });

    it("serves an OAuth login's delegation from the copy, intact", async () => {
      const { store, inner } = await setup();
      const s = session('oscar', {
        mode: 'oauth',
        secretHash: '',
        oauth: { clientId: 'app1', scopes: ['read', 'write'], audience: 'https://api.example.com' },
      });
      await store.sessions.createSession(s);
      inner.sessions.findSession = () => Promise.reject(new Error('SQL must not be asked'));
      expect(await store.sessions.findSession(s.id)).toEqual(s);
    });

    it('answers a miss from SQL and never copies what it read into Redis', async () => {
      const { store, inner, raw } = await setup();
      const s = session('bob');
      await inner.sessions.createSession(s);
      expect(await store.sessions.findSession(s.id)).toEqual(s);
      expect(await raw.exists(`s:${s.id}`)).toBe(0);
      await store.sessions.touchSession(s.id, NOW + 120_000);
      expect(await raw.exists(`s:${s.id}`)).toBe(0);
      expect((await store.sessions.findSession(s.id))?.lastSeenAt).toBe(NOW + 120_000);
    });

    it('gives every copy a TTL: the time to absolute expiry, never 0 and never none', async () => {
      const { store, raw } = await setup();
      const live = session('carol', { expiresAt: NOW + 60_000 });
      const due = session('carol', { expiresAt: NOW });
      const overdue = session('carol', { expiresAt: NOW - 5_000 });
      for (const s of [live, due, overdue]) await store.sessions.createSession(s);
      const ttl = await raw.pttl(`s:${live.id}`);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await raw.pttl('u:carol')).toBeGreaterThanOrEqual(ttl - 100);
      // 1 ms: gone by the time anyone asks; never -1 (no expiry).
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await copies(raw, [due.id, overdue.id])).toBe(0);
      // The SQL rows are still there for the sweep; reads fall back to them.
      expect(await store.sessions.findSession(due.id)).toEqual(due);
    });

    it('touch updates the copy in place; the index keeps user and activity', async () => {
      const { store, inner, raw } = await setup();
      const s = session('dave');
      await store.sessions.createSession(s);
      await store.sessions.touchSession(s.id, NOW + 90_000);
      inner.sessions.findSession = () => Promise.reject(new Error('SQL must not be asked'));
      expect((await store.sessions.findSession(s.id))?.lastSeenAt).toBe(NOW + 90_000);
      expect(await raw.zscore('sweep:seen', `dave:${s.id}`)).toBe(String(NOW + 90_000));
      expect(await raw.smembers('u:dave')).toEqual([s.id]);
    });

    it('every delete path removes the copies and their index entries', async () => {
      const { store, inner, raw } = await setup();
      const [a, b, c, d] = [session('erin'), session('erin'), session('erin'), session('frank')];
      for (const s of [a, b, c, d]) await store.sessions.createSession(s);
      expect(await copies(raw, [a.id, b.id, c.id, d.id])).toBe(4);

      expect(await store.sessions.deleteSession(a.id)).toBe(true);
      expect(await copies(raw, [a.id])).toBe(0);
      expect(await raw.zscore('sweep:seen', `erin:${a.id}`)).toBeNull();

      expect(await store.sessions.deleteUserSessions('erin', c.id)).toBe(1);
      expect(await copies(raw, [b.id, c.id])).toBe(1);
      expect(await raw.smembers('u:erin')).toEqual([c.id]);

      await store.sessions.setSessionSecret(c.id, 'cd'.repeat(32));
      expect(await copies(raw, [c.id])).toBe(0);
      expect((await store.sessions.findSession(c.id))?.secretHash).toBe('cd'.repeat(32));

      expect(await store.sessions.deleteAllSessions()).toBe(2);
      expect(await copies(raw, [c.id, d.id])).toBe(0);
      expect(await raw.exists('u:erin', 'u:frank', 'sweep:seen', 'sweep:expires')).toBe(0);
      expect(await inner.sessions.listSessions()).toEqual([]);
    });

    it('endLogins removes the copies of what it ends, and only those', async () => {
      const { store, inner, raw } = await setup();
      const [a, b, c, d, e] = [
        session('kim'),
        session('kim'),
        session('kim'),
        session('lee'),
        session('lee'),
      ];
      for (const s of [a, b, c, d, e]) await store.sessions.createSession(s);
      const ending = { endSessions: true } as const;
      expect(await store.loginEndings.endLogins({ ...ending, target: { sessionId: a.id } })).toMatchObject({
        sessions: 1,
      });
      expect(await copies(raw, [a.id, b.id, c.id])).toBe(2);
      expect(
        await store.loginEndings.endLogins({ ...ending, target: { userId: 'kim', keepSessionId: c.id } }),
      ).toMatchObject({
        sessions: 1,
      });
      expect(await copies(raw, [b.id, c.id, d.id, e.id])).toBe(3);
      expect(await raw.smembers('u:kim')).toEqual([c.id]);
      // A role change ends no login: the copies stay.
      await store.loginEndings.endLogins({ endSessions: false, target: { userId: 'lee' } });
      expect(await copies(raw, [d.id, e.id])).toBe(2);
      expect(await store.loginEndings.endLogins({ ...ending, target: { everyone: true } })).toMatchObject({
        sessions: 3,
      });
      expect(await copies(raw, [c.id, d.id, e.id])).toBe(0);
      expect(await inner.sessions.listSessions()).toEqual([]);
    });

    it('the sweep removes idle and expired copies with their index entries, and keeps live ones', async () => {
      const { store, raw } = await setup();
      const live = session('gina', { lastSeenAt: NOW });
      const idle = session('gina', { lastSeenAt: NOW - 40 * 60_000 });
      const expired = session('gina', { createdAt: NOW - 10, lastSeenAt: NOW, expiresAt: NOW + 10 });
      for (const s of [live, idle, expired]) await store.sessions.createSession(s);
      const swept = await store.sessions.deleteExpiredSessions(NOW + 10, NOW - 30 * 60_000);
      expect(swept).toBe(2);
      expect(await copies(raw, [live.id, idle.id, expired.id])).toBe(1);
      expect(await raw.smembers('u:gina')).toEqual([live.id]);
      expect(await raw.zrange('sweep:seen', '0', '-1')).toEqual([`gina:${live.id}`]);
      expect(await raw.zrange('sweep:expires', '0', '-1')).toEqual([`gina:${live.id}`]);
    });

    it('the sweep as an ending (Sessions.sweep: endLogins, expired target) removes the same copies', async () => {
      const { store, raw } = await setup();
      const live = session('ivy', { lastSeenAt: NOW });
      const idle = session('ivy', { lastSeenAt: NOW - 40 * 60_000 });
      const expired = session('ivy', { createdAt: NOW - 10, lastSeenAt: NOW, expiresAt: NOW + 10 });
      for (const s of [live, idle, expired]) await store.sessions.createSession(s);
      const ended = await store.loginEndings.endLogins({
        target: { expired: { now: NOW + 10, idleBefore: NOW - 30 * 60_000, limit: 500 } },
        endSessions: true,
        event: { id: 'sweep-1', type: 'session.revoked', at: NOW, userId: null, data: { cause: 'expired' } },
      });
      expect(ended.logins.map((l) => l.id).sort()).toEqual([idle.id, expired.id].sort());
      expect(await copies(raw, [live.id, idle.id, expired.id])).toBe(1);
      expect(await raw.smembers('u:ivy')).toEqual([live.id]);
      expect(await raw.zrange('sweep:seen', '0', '-1')).toEqual([`ivy:${live.id}`]);
      expect(await store.sessions.findSession(idle.id)).toBeUndefined();
    });

    it('a touch racing a delete never brings the copy back', async () => {
      const { store, raw } = await setup();
      for (let i = 0; i < 50; i++) {
        const s = session('hank');
        await store.sessions.createSession(s);
        await Promise.all([store.sessions.touchSession(s.id, NOW + i), store.sessions.deleteSession(s.id)]);
        expect(await copies(raw, [s.id])).toBe(0);
      }
    });

    it('a login racing a logout-all: a copy never outlives its row', async () => {
      const { store, inner, raw } = await setup();
      // SQL calls take a random 0-2 ms, and the two calls start a few ms apart: every order
      // of the Redis and SQL steps of both happens.
      const pause = (max: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * max));
      const slow = inner.sessions as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      for (const name of ['createSession', 'deleteUserSessions', 'listUserSessions']) {
        const original = (slow[name] as (...args: unknown[]) => Promise<unknown>).bind(inner.sessions);
        slow[name] = async (...args: unknown[]) => {
          await pause(2);
          return original(...args);
        };
      }
      let rowsKept = 0;
      for (let i = 0; i < 150; i++) {
        const s = session('ivy');
        await Promise.all([
          pause(8).then(() => store.sessions.createSession(s)),
          pause(3).then(() => store.sessions.deleteUserSessions('ivy')),
        ]);
        if (await inner.sessions.findSession(s.id)) rowsKept++;
        else expect(await copies(raw, [s.id])).toBe(0);
        await inner.sessions.deleteUserSessions('ivy');
        await store.sessions.deleteUserSessions('ivy');
      }
      // Both outcomes happened, so the race was really run both ways.
      expect(rowsKept).toBeGreaterThan(0);
      expect(rowsKept).toBeLessThan(150);
    });

    it('Redis down: every session operation fails as unavailable and SQL is left unchanged', async () => {
      const proxy = await startTcpProxy(hostPort(url, 6379));
      const target = new URL(url);
      target.host = `127.0.0.1:${proxy.port}`;
      const connection = await connect(target.toString());
      const inner = new MemoryStores();
      const store = withRedisSessionCache(inner, {
        redis: connection.client,
        prefix: connection.settings.prefix,
        now: () => NOW,
      });
      const s = session('jack');
      await store.sessions.createSession(s);
      await proxy.cut();
      const started = Date.now();
      await expect(store.sessions.findSession(s.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.sessions.deleteSession(s.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.sessions.deleteUserSessions('jack')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.sessions.createSession(session('jack'))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      // An ending (lock, logout-all, log everyone out) is refused before its SQL transaction.
      for (const target of [{ sessionId: s.id }, { userId: 'jack' }, { everyone: true as const }]) {
        await expect(
          store.loginEndings.endLogins({
            target,
            endSessions: true,
            revokeApiKeysAt: NOW,
            revocation: { kind: 'all', subject: '*', at: NOW, expiresAt: NOW + 1 },
          }),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
      }
      expect(await inner.revocations.listRevocationsSince(0, 0)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1_000); // fails fast, no offline queue
      expect(await inner.sessions.listSessions()).toEqual([s]);
      await expect(store.ping()).resolves.toBeUndefined(); // the SQL store answers
      await expect(connection.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await proxy.restore();
      await expect.poll(() => connection.client.status, { timeout: 5_000 }).toBe('ready');
      expect(await store.sessions.findSession(s.id)).toEqual(s);
      expect(await store.sessions.deleteSession(s.id)).toBe(true);
      await proxy.close();
    });
  });

  describe('a different Redis server after a reconnect (failover, restore)', () => {
    it('drops every copy before reading any: a stale copy of a revoked session is never served', async (context) => {
      const replica = await startPrivateRedis();
      if (!replica) {
        console.warn('\n!!! SKIPPED the failover test: no redis-server binary on PATH.\n');
        context.skip();
        return;
      }
      const proxy = await startTcpProxy(hostPort(url, 6379));
      try {
        const target = new URL(url);
        target.host = `127.0.0.1:${proxy.port}`;
        const connection = await connect(target.toString());
        const inner = new MemoryStores();
        const now = Date.UTC(2026, 0, 1);
        const store = withRedisSessionCache(inner, {
          redis: connection.client,
          prefix: connection.settings.prefix,
          now: () => now,
        });
        const s = {
          id: 'failoverSession',
          userId: 'u-failover',
          mode: 'session' as const,
          secretHash: 'ab'.repeat(32),
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 3_600_000,
          ip: '203.0.113.7',
          userAgent: 'Firefox',
          authTime: 1,
          amr: ['pwd'],
          acr: 'aal1',
        };
        await store.sessions.createSession(s);
        await expect.poll(() => store.sessions.findSession(s.id)).toEqual(s);
        // The replica got the copy, and will not get the delete (asynchronous replication).
        const replicaUrl = new URL(url);
        replicaUrl.host = `127.0.0.1:${replica.port}`;
        const staging = await RedisConnection.open({
          url: replicaUrl.toString(),
          prefix: connection.settings.prefix,
        });
        await withRedisSessionCache(new MemoryStores(), {
          redis: staging.client,
          prefix: staging.settings.prefix,
          now: () => now,
        }).sessions.createSession(s);
        await staging.close();
        expect(await store.sessions.deleteSession(s.id)).toBe(true);

        // Failover: the primary goes away, the replica takes its address.
        await proxy.cut();
        await expect.poll(() => connection.client.status).not.toBe('ready');
        proxy.retarget({ host: '127.0.0.1', port: replica.port });
        await proxy.restore();
        await expect.poll(() => connection.client.status, { timeout: 5_000 }).toBe('ready');
        expect(await store.sessions.findSession(s.id)).toBeUndefined();
        await expect.poll(async () => connection.client.exists(`s:${s.id}`), { timeout: 2_000 }).toBe(0);
      } finally {
        await proxy.close();
        await replica.stop();
      }
    });
  });

  describe('revocation bus (pub/sub)', () => {
    const record = (seq: number): RevocationRecord => ({
      seq,
      kind: 'session',
      subject: `sid${seq}`,
      at: 1_000,
      expiresAt: 2_000,
    });

    it('delivers records to every subscriber of the deployment, and only of it', async () => {
      const shared = await connect();
      const [a, b] = [new RedisRevocationBus(shared), new RedisRevocationBus(shared)];
      const other = new RedisRevocationBus(await connect());
      const got: Record<string, RevocationRecord[]> = { a: [], b: [], other: [] };
      await a.subscribe(
        (r) => got.a?.push(r),
        () => {},
      );
      await b.subscribe(
        (r) => got.b?.push(r),
        () => {},
      );
      await other.subscribe(
        (r) => got.other?.push(r),
        () => {},
      );
      await a.publish(record(1));
      await expect.poll(() => got.b?.length).toBe(1);
      expect(got.a).toEqual([record(1)]);
      expect(got.b).toEqual([record(1)]);
      expect(got.other).toEqual([]);
      for (const bus of [a, b, other]) await bus.close();
    });

    it('a garbled message is a gap, not a record', async () => {
      const connection = await connect();
      const bus = new RedisRevocationBus(connection);
      const got: RevocationRecord[] = [];
      let gaps = 0;
      await bus.subscribe(
        (r) => got.push(r),
        () => gaps++,
      );
      await connection.client.publish(connection.channel('revocations'), '{"seq":"1; drop"}');
      await expect.poll(() => gaps).toBe(1);
      expect(got).toEqual([]);
      await bus.close();
    });

    it('a lost subscription reports a gap, resubscribes by itself and reports again', async () => {
      const proxy = await startTcpProxy(hostPort(url, 6379));
      const target = new URL(url);
      target.host = `127.0.0.1:${proxy.port}`;
      const viaProxy = await connect(target.toString());
      const direct = await RedisConnection.open({ url, prefix: viaProxy.settings.prefix });
      connections.push(direct);
      const bus = new RedisRevocationBus(viaProxy);
      const got: RevocationRecord[] = [];
      let gaps = 0;
      await bus.subscribe(
        (r) => got.push(r),
        () => gaps++,
      );
      await proxy.cut();
      await expect.poll(() => gaps).toBe(1);
      await proxy.restore();
      await expect.poll(() => gaps, { timeout: 5_000 }).toBe(2);
      await new RedisRevocationBus(direct).publish(record(7));
      await expect.poll(() => got).toEqual([record(7)]);
      await bus.close();
      await proxy.close();
    });
  });
});
