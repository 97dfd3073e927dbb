import { afterEach, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { post, registerAndLogin, startTessera, type TestServer, withSession } from '../helpers.js';
import { startReceiver } from './receiver.js';

/**
 * The foundation of issue 21: every login ending records a `session.revoked` event in its own
 * transaction, the fan-out turns events into deliveries through registered handlers, and the
 * worker POSTs them; a webhook receiver verifies Standard Webhooks signatures with the library.
 */
describe('security events → fan-out → deliveries', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });

  async function setup(): Promise<TestServer> {
    const server = await startTessera({ runtime: systemRuntime });
    open.push(server);
    return server;
  }

  it('a logout is delivered as a signed Standard Webhook carrying the login, its user and the cause', async () => {
    const server = await setup();
    const receiver = await startReceiver();
    open.push(receiver);
    const { secret, endpoint } = await server.tessera.events.webhooks.create(
      {
        url: receiver.url,
        events: ['session.revoked', 'user.registered', 'login.succeeded'],
        format: 'standard',
      },
      { actorId: null, client: { ip: 'test', userAgent: 'vitest' } },
    );
    receiver.state.secret = secret ?? undefined;
    const { token, userId } = await registerAndLogin(server.app);
    const sessionId = token.split('.')[0];
    const out = await post(server.app, '/auth/logout', {}, withSession(token));
    expect(out.statusCode).toBe(204);
    await server.tessera.events.drain();
    await receiver.waitFor(3);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    // Concurrent deliveries: no order is promised (receivers order by the payload's timestamp).
    const types = receiver.received.map((r) => r.verified?.type).sort();
    expect(types).toEqual(['login.succeeded', 'session.revoked', 'user.registered']);
    const revoked = receiver.received.find((r) => r.verified?.type === 'session.revoked')?.verified;
    expect(revoked?.data).toMatchObject({ userId, cause: 'logout', logins: [{ id: sessionId, userId }] });
    // Never a secret: no token, hash or password anywhere in what was sent.
    for (const r of receiver.received) {
      expect(r.body).not.toContain(token);
      expect(r.body).not.toContain('correct horse');
      expect(r.body).not.toMatch(/argon2|secretHash|password_hash/);
    }
    const deliveries = await server.tessera.events.webhooks.deliveries(endpoint.id, { limit: 10 });
    expect(deliveries.map((d) => [d.status, d.lastStatus])).toEqual(Array(3).fill(['delivered', 202]));
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(deliveries.map((d) => d.id)),
    );
  });

  it('registerFanout: a handler adds its own deliveries with its own format, for every event', async () => {
    const server = await setup();
    const receiver = await startReceiver({ status: 200 });
    open.push(receiver);
    const seen: string[] = [];
    server.tessera.events.registerFormat('test-form', (delivery) => ({
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ logout: delivery.payload }).toString(),
    }));
    server.tessera.events.registerFanout((event) => {
      seen.push(event.type);
      if (event.type !== 'session.revoked') return [];
      const logins = event.data.logins as Array<{ id: string }>;
      return logins.map((login) => ({
        url: receiver.url,
        format: 'test-form',
        endpointId: 'rp-1',
        payload: { sid: login.id },
      }));
    });
    const { token } = await registerAndLogin(server.app);
    await post(server.app, '/auth/logout-all', {}, withSession(token));
    await server.tessera.events.drain();
    await receiver.waitFor(1);
    expect(seen.sort()).toEqual(['login.succeeded', 'session.revoked', 'user.registered']);
    const body = new URLSearchParams(receiver.received[0]?.body);
    expect(JSON.parse(body.get('logout') ?? '{}')).toEqual({ sid: token.split('.')[0] });
    expect(receiver.received[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('the expiry sweep records session.revoked (cause expired) with every swept login', async () => {
    const server = await setup();
    const a = await registerAndLogin(server.app);
    const b = await registerAndLogin(server.app);
    const sessions = server.tessera.stores.sessions;
    for (const { token } of [a, b]) {
      const id = token.split('.')[0] ?? '';
      const found = await sessions.findSession(id);
      if (found)
        await sessions.deleteSession(id).then(() => sessions.createSession({ ...found, expiresAt: 1 }));
    }
    expect(await server.tessera.sessions.sweep()).toBe(2);
    const [event] = await server.tessera.stores.securityEvents.listSecurityEvents({
      type: 'session.revoked',
      limit: 5,
    });
    const data = JSON.parse(event?.data ?? '{}');
    expect(data.cause).toBe('expired');
    expect(data.logins.map((l: { userId: string }) => l.userId).sort()).toEqual([a.userId, b.userId].sort());
  });
});

describe('drain', () => {
  it('delivers more than fit in flight at once (100 deliveries, 32 slots)', async () => {
    const server = await startTessera({ runtime: systemRuntime });
    const receiver = await startReceiver();
    try {
      server.tessera.events.registerFormat('plain', () => ({ contentType: 'application/json', body: '{}' }));
      server.tessera.events.registerFanout(() =>
        Array.from({ length: 100 }, (_, i) => ({ url: receiver.url, format: 'plain', payload: { i } })),
      );
      await server.tessera.audit.record('user.unlocked', { actorId: null, userId: 'u-many' });
      await server.tessera.events.drain();
      expect(receiver.received).toHaveLength(100);
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});
