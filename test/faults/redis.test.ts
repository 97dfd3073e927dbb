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

      it('blackhole: commands fail within their timeout, /healthz within its bound naming Redis', async () => {
        const { load, node, proxy } = ctx;
        const health: Array<{ ms: number; status: number; reasons: unknown }> = [];
        const { recoveryMs, fault } = await runFault(load, `redis blackhole (${mode})`, {
          fault: () => proxy.blackhole(),
          faultMs: REDIS_COMMAND_TIMEOUT_MS + 1_000,
          during: async () => {
            await sleep(200);
            const answer = await node.request('GET', '/healthz');
            health.push({
              ms: answer.doneAt - answer.sentAt,
              status: answer.status,
              reasons: answer.body?.reasons,
            });
          },
          heal: () => proxy.restore(),
        });
        console.log(`[fault] redis blackhole (${mode}): /healthz answered ${JSON.stringify(health)}`);
        for (const check of health) {
          expect(check.status).toBe(503);
          expect(check.reasons).toMatchObject({ redis: expect.stringMatching(/^(timeout|unavailable)$/) });
          expect(check.ms).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS + 1_500);
        }
        expect(fault['503']).toBeGreaterThan(0);
        expectClean(load, node, recoveryMs);
      });

      if (mode === 'session') {
        it('slow network (150 ms each way): slower answers, no errors', async () => {
          const { load, node, proxy } = ctx;
          const { recoveryMs, fault } = await runFault(load, `redis slow 150 ms (${mode})`, {
            fault: () => proxy.slow(150),
            faultMs: 1_500,
            heal: () => proxy.restore(),
          });
          expect(fault['200']).toBeGreaterThan(0);
          expectClean(load, node, recoveryMs);
        });
      }
    });
  }
});
