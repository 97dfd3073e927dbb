import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_CHECK_TIMEOUT_MS } from '../../src/http/routes/health.js';
import { QUERY_TIMEOUT_MS } from '../../src/store/sql/pg-client.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from '../services.js';
import { hostPort, startTcpProxy } from '../tcp-proxy.js';
import { FaultLoad, type Mode, runFault } from './load.js';
import { sleep, startNode, type TesseraNode } from './node.js';

/**
 * PostgreSQL breaking under load, through a TCP proxy the test controls (reset, blackhole,
 * slow) and by pg_terminate_backend on this test's own connections (found by an
 * application_name no other session has). The shared server is never stopped.
 */
const url = await serviceUrlOrSkip('postgres', 'PostgreSQL fault suite');
const RECOVERY_BOUND_MS = 15_000;

describe.skipIf(url === undefined)('PostgreSQL faults under load', () => {
  const databaseUrl = url as string;
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await dropTestSchemas(databaseUrl);
  });

  /** A node in `mode` whose every PostgreSQL connection (pool and bus) goes through a proxy. */
  async function proxiedNode(mode: Mode) {
    const schema = testSchema();
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
    const proxy = await startTcpProxy(hostPort(databaseUrl, 5432));
    cleanup.push(() => proxy.close());
    const applicationName = `tessera_fault_${randomBytes(6).toString('hex')}`;
    const target = new URL(databaseUrl);
    target.host = `127.0.0.1:${proxy.port}`;
    target.searchParams.set('options', `-c search_path=${schema}`);
    // Wins over the pool's and the bus's own names: pg_terminate_backend picks these alone.
    target.searchParams.set('application_name', applicationName);
    const node = await startNode({
      TESSERA_DATABASE_URL: target.toString(),
      TESSERA_MODE: mode,
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    });
    cleanup.push(() => node.stop());
    const load = new FaultLoad(node, mode);
    await load.prepare(2, 3);
    return { node, proxy, load, applicationName };
  }

  /** Ends this node's own backends (pool and bus), never anyone else's. */
  async function terminateBackends(applicationName: string): Promise<number> {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        'select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
        [applicationName],
      );
      return rows.length;
    } finally {
      await admin.end();
    }
  }

  function expectClean(load: FaultLoad, node: TesseraNode, recoveryMs: number) {
    expect(node.alive(), node.stderr()).toBe(true);
    expect(load.violations).toEqual([]);
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  }

  describe('session mode', () => {
    let ctx: Awaited<ReturnType<typeof proxiedNode>>;
    beforeAll(async () => {
      ctx = await proxiedNode('session');
      ctx.load.start();
    }, 60_000);
    afterAll(async () => {
      await ctx?.load.stop();
      await ctx?.load.verify();
      expect(ctx?.load.violations ?? []).toEqual([]);
    }, 60_000);

    it('connections reset mid-query, three times: 503s at most, the pool replaces them, no crash', async () => {
      const { load, node, proxy } = ctx;
      const { recoveryMs } = await runFault(load, 'postgres reset (session)', {
        fault: () => proxy.reset(),
        faultMs: 1_500,
        during: async () => {
          for (let i = 0; i < 2; i++) {
            await sleep(500);
            proxy.reset();
          }
        },
        heal: () => undefined,
      });
      expectClean(load, node, recoveryMs);
    });

    it('pg_terminate_backend on every connection of the node, twice: no crash, recovery by itself', async () => {
      const { load, node, applicationName } = ctx;
      let ended = 0;
      const { recoveryMs } = await runFault(load, 'postgres pg_terminate_backend (session)', {
        fault: async () => {
          ended += await terminateBackends(applicationName);
        },
        faultMs: 1_000,
        during: async () => {
          await sleep(500);
          ended += await terminateBackends(applicationName);
        },
        heal: () => undefined,
      });
      expect(ended).toBeGreaterThan(0);
      expectClean(load, node, recoveryMs);
    });

    it('slow network (150 ms each way): slower answers, no errors', async () => {
      const { load, node, proxy } = ctx;
      const { recoveryMs, fault } = await runFault(load, 'postgres slow 150 ms (session)', {
        fault: () => proxy.slow(150),
        faultMs: 1_000,
        heal: () => proxy.restore(),
      });
      expect(fault['200']).toBeGreaterThan(0);
      expectClean(load, node, recoveryMs);
    });

    it('blackhole (packets dropped, nothing reset): a request fails with 503 within the query timeout, /healthz within its bound naming the store', async () => {
      const { load, node, proxy } = ctx;
      const health: Array<{ ms: number; status: number; reasons: unknown }> = [];
      let stuck: { ms: number; status: number } | undefined;
      const { recoveryMs } = await runFault(load, 'postgres blackhole (session)', {
        fault: () => proxy.blackhole(),
        faultMs: QUERY_TIMEOUT_MS + 1_500,
        during: async (token) => {
          await sleep(300);
          const [check, session] = await Promise.all([
            node.request('GET', '/healthz'),
            node.request('GET', '/auth/session', { token }),
          ]);
          health.push({
            ms: check.doneAt - check.sentAt,
            status: check.status,
            reasons: check.body?.reasons,
          });
          stuck = { ms: session.doneAt - session.sentAt, status: session.status };
        },
        heal: () => proxy.restore(),
      });
      console.log(
        `[fault] postgres blackhole: /healthz ${JSON.stringify(health)}; a validation ${JSON.stringify(stuck)}`,
      );
      expect(health).toEqual([{ ms: expect.any(Number), status: 503, reasons: { store: 'timeout' } }]);
      expect(health[0]?.ms).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS + 1_000);
      // Failed (503) by the query or connect timeout rather than left waiting for the partition.
      expect(stuck?.status).toBe(503);
      expect(stuck?.ms).toBeLessThan(QUERY_TIMEOUT_MS + 1_000);
      expectClean(load, node, recoveryMs);
    }, 40_000);
  });

  describe('hybrid mode (PostgreSQL LISTEN/NOTIFY bus)', () => {
    let ctx: Awaited<ReturnType<typeof proxiedNode>>;
    beforeAll(async () => {
      ctx = await proxiedNode('hybrid');
      ctx.load.start();
    }, 60_000);
    afterAll(async () => {
      await ctx?.load.stop();
      await ctx?.load.verify();
      expect(ctx?.load.violations ?? []).toEqual([]);
    }, 60_000);

    it('the bus connection and the pool reset while catching up, and pg_terminate_backend on both: no crash, no revoked token accepted', async () => {
      const { load, node, proxy, applicationName } = ctx;
      const { recoveryMs } = await runFault(load, 'postgres reset + pg_terminate_backend (hybrid)', {
        fault: () => proxy.reset(),
        faultMs: 1_500,
        // The bus reconnects within ~100 ms and catches up: break it again in the middle of that.
        during: async () => {
          for (const pause of [120, 200]) {
            await sleep(pause);
            proxy.reset();
          }
          await sleep(150);
          await terminateBackends(applicationName);
        },
        heal: () => undefined,
      });
      expectClean(load, node, recoveryMs);
    });
  });
});
