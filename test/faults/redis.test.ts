import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_CHECK_TIMEOUT_MS } from '../../src/http/routes/health.js';
import { deleteRedisKeys, serviceUrlOrSkip, uniqueRedisPrefix } from '../services.js';
import { hostPort, startTcpProxy } from '../tcp-proxy.js';
import { FaultLoad, type Mode, runFault } from './load.js';
import { sleep, startNode, type TesseraNode } from './node.js';

/**
 * Redis breaking under load (session cache, rate-limit counters, hybrid's bus), through a TCP
 * proxy the test controls; SQLite is the system of record. The shared Redis is never touched
 * beyond this test's own key prefix.
 */
const url = await serviceUrlOrSkip('redis', 'Redis fault suite');
const RECOVERY_BOUND_MS = 15_000;
/** ioredis' command timeout (store/redis/connection.ts). */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

describe.skipIf(url === undefined)('Redis faults under load', () => {
  const redisUrl = url as string;
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  async function proxiedNode(mode: Mode) {
    const proxy = await startTcpProxy(hostPort(redisUrl, 6379));
    cleanup.push(() => proxy.close());
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => deleteRedisKeys(redisUrl, prefix));
    const target = new URL(redisUrl);
    target.host = `127.0.0.1:${proxy.port}`;
    const node = await startNode({
      TESSERA_REDIS_URL: target.toString(),
      TESSERA_REDIS_PREFIX: prefix,
      TESSERA_MODE: mode,
    });
    cleanup.push(() => node.stop());
    const load = new FaultLoad(node, mode);
    await load.prepare(2, 3);
    return { node, proxy, load };
  }

  function expectClean(load: FaultLoad, node: TesseraNode, recoveryMs: number) {
    expect(node.alive(), node.stderr()).toBe(true);
    expect(load.violations).toEqual([]);
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  }

  for (const mode of ['session', 'hybrid'] as const) {
    describe(`${mode} mode`, () => {
      let ctx: Awaited<ReturnType<typeof proxiedNode>>;
      beforeAll(async () => {
        ctx = await proxiedNode(mode);
        ctx.load.start();
      }, 60_000);
      afterAll(async () => {
        await ctx?.load.stop();
        await ctx?.load.verify();
        expect(ctx?.load.violations ?? []).toEqual([]);
      }, 60_000);

      it('connections reset, three times: 503s at most, reconnects by itself', async () => {
        const { load, node, proxy } = ctx;
        const { recoveryMs } = await runFault(load, `redis reset (${mode})`, {
          fault: () => proxy.reset(),
          faultMs: 1_000,
          during: async () => {
            for (let i = 0; i < 2; i++) {
              await sleep(300);
              proxy.reset();
            }
          },
          heal: () => undefined,
        });
        expectClean(load, node, recoveryMs);
      });

      it('blackhole: a request needing Redis fails with 503 within the command timeout, /healthz within its bound naming Redis', async () => {
        const { load, node, proxy } = ctx;
        const health: Array<{ ms: number; status: number; reasons: unknown }> = [];
        let stuck: { ms: number; status: number } | undefined;
        const { recoveryMs } = await runFault(load, `redis blackhole (${mode})`, {
          fault: () => proxy.blackhole(),
          faultMs: REDIS_COMMAND_TIMEOUT_MS + 1_000,
          during: async (token) => {
            await sleep(200);
            // Listing a user's devices reads Redis in both modes.
            const [check, devices] = await Promise.all([
              node.request('GET', '/healthz'),
              node.request('GET', '/auth/sessions', { token }),
            ]);
            health.push({
              ms: check.doneAt - check.sentAt,
              status: check.status,
              reasons: check.body?.reasons,
            });
            stuck = { ms: devices.doneAt - devices.sentAt, status: devices.status };
          },
          heal: () => proxy.restore(),
        });
        console.log(
          `[fault] redis blackhole (${mode}): /healthz ${JSON.stringify(health)}; a sessions list ${JSON.stringify(stuck)}`,
        );
        expect(health).toEqual([{ ms: expect.any(Number), status: 503, reasons: { redis: 'timeout' } }]);
        expect(health[0]?.ms).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS + 1_000);
        // Session mode reads the session from Redis: refused, within two command timeouts (the
        // caller's session, then the list). Hybrid lists from SQL and may answer: never a hang.
        if (mode === 'session') expect(stuck?.status).toBe(503);
        else expect([200, 503]).toContain(stuck?.status);
        expect(stuck?.ms).toBeLessThan(2 * REDIS_COMMAND_TIMEOUT_MS + 1_500);
        expectClean(load, node, recoveryMs);
      });
    });
  }
});
