import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import {
  assertBuilt,
  bearerLogin,
  call,
  credentialOf,
  type Node,
  runCli,
  schemaUrl,
  startNode,
  stopNode,
} from '../multinode/cluster.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from '../services.js';
import { type Received, startReceiver } from './receiver.js';

/**
 * Three `tessera serve` processes on one PostgreSQL share the event outbox: every node runs the
 * fan-out and the delivery worker, claims are leased per row, and each event reaches the
 * receiver once (at least once by contract; duplicates would show as a repeated webhook-id).
 * Also measures revocation → receiver acceptance latency and the outbox's throughput.
 */
const pgUrl = await serviceUrlOrSkip('postgres', 'webhooks multi-node test');
const PASSWORD = 'correct horse battery staple';
const ADMIN = `webhook-admin.${process.pid}@example.com`;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

describe.skipIf(pgUrl === undefined)('webhooks across three nodes on one PostgreSQL', () => {
  const nodes: Node[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let databaseUrl: string;
  let schema: string;
  let admin: string;

  beforeAll(async () => {
    assertBuilt();
    schema = testSchema();
    databaseUrl = await schemaUrl(pgUrl as string, schema);
    const env = {
      TESSERA_MODE: 'session',
      TESSERA_DATABASE_URL: databaseUrl,
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TESSERA_CSRF_SECRET: randomBytes(32).toString('hex'),
      TESSERA_RATE_LIMIT: 'off',
    };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const created = await runCli(
      ['users', 'create', '--email', ADMIN, '--role', 'admin'],
      env,
      `${PASSWORD}\n`,
    );
    expect(created.code, created.stderr).toBe(0);
    nodes.push(...(await Promise.all(['a', 'b', 'c'].map((name) => startNode(name, env)))));
    receiver = await startReceiver();
    admin = credentialOf(await bearerLogin(nodes[0] as Node, ADMIN, PASSWORD));
    const made = await call(nodes[1] as Node, 'POST', '/admin/api/webhooks', {
      token: admin,
      body: {
        url: receiver.url,
        events: ['session.revoked', 'login.succeeded', 'user.locked'],
        format: 'standard',
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    receiver.state.secret = made.body.secret as string;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => stopNode(node)));
    await receiver?.close();
    await dropTestSchemas(pgUrl as string);
  });

  const eventIdOf = (r: Received) => r.verified?.data.eventId as string;

  it('logins and logouts on all three nodes: every event delivered once, verified; latency measured', async () => {
    const email = `multi.${process.pid}@example.com`;
    expect(
      (await call(nodes[0] as Node, 'POST', '/auth/register', { body: { email, password: PASSWORD } }))
        .status,
    ).toBe(201);
    const rounds = 30;
    const latencies: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const login = await bearerLogin(nodes[i % 3] as Node, email, PASSWORD);
      const sid = (login.session as { id: string }).id;
      const started = performance.now();
      const out = await call(nodes[(i + 1) % 3] as Node, 'POST', '/auth/logout', {
        token: credentialOf(login),
      });
      expect(out.status).toBe(204);
      // Revocation (the logout's request) → the receiver accepted its session.revoked.
      const deadline = Date.now() + 5_000;
      let arrived: Received | undefined;
      while (!arrived && Date.now() < deadline) {
        arrived = receiver.received.find(
          (r) =>
            r.verified?.type === 'session.revoked' &&
            (r.verified.data.logins as Array<{ id: string }>)[0]?.id === sid,
        );
        if (!arrived) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(arrived, `session.revoked for login ${i}`).toBeDefined();
      latencies.push((arrived as Received).at - started);
    }
    await receiver.waitFor(rounds * 2);
    // Three workers keep polling: nothing else may arrive.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const types = receiver.received.map((r) => r.verified?.type);
    expect(types.filter((t) => t === 'session.revoked')).toHaveLength(rounds);
    // (The admin's own login came before the endpoint existed: events are not replayed to new endpoints.)
    expect(types.filter((t) => t === 'login.succeeded')).toHaveLength(rounds);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(receiver.received.map(eventIdOf)).size).toBe(receiver.received.length);
    console.log(
      `revocation → receiver acceptance over 3 nodes (${rounds} logouts): p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(percentile(latencies, 99)).toBeLessThan(1_000);
  }, 60_000);

  it('a burst of 1,000 events is shared by the three nodes and delivered once each; throughput measured', async () => {
    const before = receiver.received.length;
    const stores = await openPostgresStores(pgUrl as string, { poolSize: 4, schema });
    const count = 1_000;
    const at = Date.now();
    // One transaction: the nodes find the whole burst at once.
    try {
      await stores.transaction(async (trx) => {
        for (let i = 0; i < count; i++) {
          await trx.securityEvents.appendSecurityEvent({
            id: `burst-${process.pid}-${i}`,
            type: 'user.locked',
            at: at + i,
            userId: `u${i}`,
            data: JSON.stringify({ actorId: null, detail: { reason: 'burst' } }),
          });
        }
      });
    } finally {
      await stores.close();
    }
    const started = performance.now();
    await receiver.waitFor(before + count, 60_000);
    const done = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const burst = receiver.received.slice(before);
    expect(burst).toHaveLength(count);
    expect(new Set(burst.map(eventIdOf)).size).toBe(count);
    expect(new Set(burst.map((r) => r.headers['webhook-id'])).size).toBe(count);
    console.log(
      `outbox throughput, 3 nodes on PostgreSQL, signed Standard Webhooks, receiver verifying: ${count} events committed at once, all delivered ${(done - started).toFixed(0)} ms later: ${(count / ((done - started) / 1000)).toFixed(0)} deliveries/s (fan-out + delivery)`,
    );
  }, 90_000);
});
