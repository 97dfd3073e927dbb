import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualRuntime, type Runtime } from '../../src/core/runtime.js';
import { Destinations } from '../../src/events/destinations.js';
import {
  attemptsWithin,
  DEFAULT_HTTP_DELIVERY_POLICY,
  DeliveryWorker,
} from '../../src/events/http-delivery.js';
import type { DeliveryRecord } from '../../src/store/ports/index.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { post, registerAndLogin, startTessera, tempDir, withSession } from '../helpers.js';
import { startReceiver } from './receiver.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** The system clock, moved forward on demand (a retry comes due without waiting for it). */
const skewedClock = (): Runtime & { skew: number } => {
  const clock = {
    skew: 0,
    now: () => Date.now() + clock.skew,
    randomBytes: manualRuntime().randomBytes,
  };
  return clock;
};

describe('the delivery outbox survives restarts and receiver outages', () => {
  it('a receiver outage, then a Tessera restart on the same SQLite file: every event arrives, verified', async () => {
    const dir = tempDir();
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}` };
    const clock = skewedClock();
    const receiver = await startReceiver();
    const { port, url } = receiver;
    await receiver.close(); // the receiver is down

    const first = await startTessera({ env, runtime: clock });
    const { secret } = await first.tessera.events.webhooks.create(
      { url, events: ['session.revoked', 'user.locked'], format: 'standard' },
      { actorId: null, client: { ip: 'test', userAgent: 'vitest' } },
    );
    const { token, userId } = await registerAndLogin(first.app);
    await post(first.app, '/auth/logout', {}, withSession(token));
    await first.tessera.events.drain();
    const [failed] = await first.tessera.stores.deliveries.listDeliveries({ limit: 5 });
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastStatus: null });
    expect(failed?.lastError).toMatch(/ECONNREFUSED/);
    // An event written but not yet fanned out when the process stops (a crash before fan-out).
    await first.tessera.control.lockUser(userId, 'test', {
      actorId: null,
      client: { ip: 'cli', userAgent: 'cli' },
    });
    await first.close();

    const back = await startReceiver({ port });
    open.push(back);
    back.state.secret = secret ?? undefined;
    const second = await startTessera({ env, runtime: clock });
    open.push(second);
    clock.skew = 6_000; // the first retry (5 s backoff) is due
    await second.tessera.events.drain();
    await back.waitFor(2);
    expect(back.received.map((r) => r.verified?.type).sort()).toEqual(['session.revoked', 'user.locked']);
    expect(back.received.find((r) => r.verified?.type === 'session.revoked')?.headers['webhook-id']).toBe(
      failed?.id,
    );
    const counts = await second.tessera.stores.deliveries.countDeliveries();
    expect(counts).toEqual({ pending: 0, delivered: 2, failed: 0 });

    // Retention: fanned-out events go after a day, deliveries after 30 days.
    const events = () => second.tessera.stores.securityEvents.listSecurityEvents({ limit: 100 });
    const eventCount = (await events()).length;
    clock.skew = 25 * 3_600_000;
    await second.tessera.events.sweep();
    expect((await events()).length).toBeLessThan(eventCount);
    expect((await second.tessera.stores.deliveries.countDeliveries()).delivered).toBe(2);
    clock.skew = 31 * 24 * 3_600_000;
    await second.tessera.events.sweep();
    expect((await second.tessera.stores.deliveries.countDeliveries()).delivered).toBe(0);
  });
});

describe('the delivery worker', () => {
  async function outbox() {
    const stores = await openSqliteStores(join(tempDir(), 'outbox.db'));
    open.push(stores);
    let n = 0;
    const enqueue = async (url: string, count: number, now: number) => {
      const id = `e${++n}`;
      await stores.securityEvents.appendSecurityEvent({
        id,
        type: 'user.locked',
        at: now,
        userId: 'u',
        data: '{}',
      });
      await stores.securityEvents.claimSecurityEvents(now, 'test', now + 1_000, 1);
      const deliveries: DeliveryRecord[] = Array.from({ length: count }, (_, i) => ({
        id: `${id}-d${i}`,
        eventId: id,
        eventType: 'user.locked',
        endpointId: null,
        format: 'plain',
        url,
        payload: JSON.stringify({ i }),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        lastStatus: null,
        createdAt: now,
        deliveredAt: null,
      }));
      await stores.securityEvents.completeFanout(id, 'test', now, deliveries);
    };
    return { stores, enqueue };
  }
  const plain = () => ({ contentType: 'application/json', body: '{}' });

  it('a receiver answering 500 forever: retried with backoff for 24 h, then failed; nothing held in memory', async () => {
    const clock = manualRuntime(Date.now());
    const { stores, enqueue } = await outbox();
    const receiver = await startReceiver({ status: 500 });
    open.push(receiver);
    const worker = new DeliveryWorker(
      stores.deliveries,
      clock,
      new Destinations({ development: true, allowedNetworks: [] }),
    );
    worker.registerFormat('plain', plain);
    const outcomes = { delivered: 0, retry: 0, failed: 0 };
    worker.onOutcome((outcome) => {
      outcomes[outcome]++;
    });
    const given: string[] = [];
    worker.onGiveUp(async (d) => {
      given.push(d.id);
    });
    const start = clock.now();
    await enqueue(receiver.url, 20, start);
    const heapBefore = process.memoryUsage().heapUsed;
    let passes = 0;
    for (;;) {
      await worker.run();
      await worker.idle();
      expect(worker.inFlight).toBe(0);
      const pending = await stores.deliveries.listDeliveries({ status: 'pending', limit: 100 });
      if (pending.length === 0) break;
      clock.advance(Math.max(0, Math.min(...pending.map((d) => d.nextAttemptAt)) - clock.now()));
      passes++;
    }
    const expected = attemptsWithin(DEFAULT_HTTP_DELIVERY_POLICY);
    const failed = await stores.deliveries.listDeliveries({ status: 'failed', limit: 100 });
    expect(failed).toHaveLength(20);
    for (const d of failed)
      expect([d.attempts, d.lastStatus, d.lastError]).toEqual([expected, 500, 'HTTP 500']);
    expect(receiver.received).toHaveLength(20 * expected);
    expect(given).toHaveLength(20);
    expect(outcomes).toEqual({ delivered: 0, retry: 20 * (expected - 1), failed: 20 });
    // Roughly a day of trying, not more: the last attempt comes before 24 h plus one backoff step.
    const elapsed = clock.now() - start;
    expect(elapsed).toBeGreaterThan(23 * 3_600_000);
    expect(elapsed).toBeLessThan(25 * 3_600_000);
    expect(passes).toBe(expected - 1);
    // 600+ failed requests later the worker holds nothing more than before (generous bound for GC noise).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);

  it('a slow receiver times out without holding up deliveries to others', async () => {
    const clock = manualRuntime(Date.now());
    const { stores, enqueue } = await outbox();
    const slow = await startReceiver();
    slow.state.hang = true;
    const fast = await startReceiver();
    open.push(slow, fast);
    const worker = new DeliveryWorker(
      stores.deliveries,
      clock,
      new Destinations({ development: true, allowedNetworks: [] }),
      { ...DEFAULT_HTTP_DELIVERY_POLICY, timeoutMs: 800 },
    );
    worker.registerFormat('plain', plain);
    await enqueue(slow.url, 3, clock.now());
    await enqueue(fast.url, 10, clock.now());
    const started = performance.now();
    await worker.run();
    await fast.waitFor(10);
    expect(performance.now() - started).toBeLessThan(700); // the fast ones did not wait for the slow ones
    await worker.idle();
    const slowOnes = await stores.deliveries.listDeliveries({ status: 'pending', limit: 10 });
    expect(slowOnes).toHaveLength(3);
    for (const d of slowOnes) expect(d.lastError).toMatch(/timed out after 800 ms/);
    expect((await stores.deliveries.countDeliveries()).delivered).toBe(10);
  });
});
