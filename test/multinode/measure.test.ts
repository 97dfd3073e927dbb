import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createTessera } from '../../src/tessera.js';
import { tempDir } from '../helpers.js';
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
  runCli,
  schemaUrl,
  startNode,
  stopNode,
} from './cluster.js';

/**
 * The numbers behind docs/DEPLOY.md's sizing table. Not part of `npm test` (it takes a minute
 * and its results are measurements, not pass/fail): run it with
 *
 *   MEASURE=1 npx vitest run test/multinode/measure.test.ts
 *
 * (after `npm run build`), on an otherwise idle machine.
 */
const enabled = process.env.MEASURE === '1';
const pgUrl = enabled ? await serviceUrlOrSkip('postgres', 'measurements') : undefined;
const redisUrl = enabled ? await serviceUrlOrSkip('redis', 'measurements') : undefined;
const PASSWORD = 'correct horse battery staple';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) as number,
  };
};

describe.skipIf(!enabled || pgUrl === undefined || redisUrl === undefined)('measurements', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    await dropTestSchemas(pgUrl as string);
    for (const prefix of prefixes) await deleteRedisKeys(redisUrl as string, prefix);
  });
  const prefix = () => {
    const p = uniqueRedisPrefix();
    prefixes.push(p);
    return p;
  };

  it('session validations per second, in process, per engine', { timeout: 300_000 }, async () => {
    const engines: Record<string, () => Promise<Record<string, string>>> = {
      sqlite: async () => ({ TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'm.db')}` }),
      'sqlite+redis': async () => ({
        TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'm.db')}`,
        TESSERA_REDIS_URL: redisUrl as string,
        TESSERA_REDIS_PREFIX: prefix(),
      }),
      postgres: async () => ({ TESSERA_DATABASE_URL: await schemaUrl(pgUrl as string, testSchema()) }),
      'postgres+redis': async () => ({
        TESSERA_DATABASE_URL: await schemaUrl(pgUrl as string, testSchema()),
        TESSERA_REDIS_URL: redisUrl as string,
        TESSERA_REDIS_PREFIX: prefix(),
      }),
    };
    const rows: string[] = [];
    for (const [engine, envOf] of Object.entries(engines)) {
      const tessera = await createTessera(loadConfig({ ...(await envOf()), TESSERA_LOG_LEVEL: 'silent' }));
      try {
        const user = await tessera.accounts.register({
          email: `m.${engine}@example.com`,
          password: PASSWORD,
        });
        const client = { ip: '127.0.0.1', userAgent: 'measure' };
        const tokens: string[] = [];
        for (let i = 0; i < 1_000; i++) tokens.push((await tessera.sessions.create(user.id, client)).token);
        // What session mode does per request: the session with its user (hash compared).
        let i = 0;
        const validate = async () => {
          if (!(await tessera.sessions.validate(tokens[i++ % tokens.length] as string)))
            throw new Error('refused');
        };
        const findOnly = async () => {
          await tessera.stores.sessions.findSession(
            (tokens[i++ % tokens.length] as string).split('.')[0] as string,
          );
        };
        const rate = async (work: () => Promise<void>, concurrency: number) => {
          const until = performance.now() + 2_000;
          let done = 0;
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (performance.now() < until) {
                await work();
                done++;
              }
            }),
          );
          return Math.round(done / 2);
        };
        await rate(validate, 16); // warm up: prepared statements, JIT, connections
        const results = [
          await rate(validate, 1),
          await rate(validate, 32),
          await rate(findOnly, 1),
          await rate(findOnly, 32),
        ];
        rows.push(`| ${engine} | ${results.map((r) => r.toLocaleString('en-US')).join(' | ')} |`);
      } finally {
        await tessera.close();
      }
    }
    console.log(
      [
        '| store | validations/s, 1 at a time | validations/s, 32 in flight | findSession/s, 1 at a time | findSession/s, 32 in flight |',
        '| --- | --- | --- | --- | --- |',
        ...rows,
      ].join('\n'),
    );
  });

  it('Redis memory per cached session (copy + user index + sweep indexes)', async () => {
    const tessera = await createTessera(
      loadConfig({
        TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'mem.db')}`,
        TESSERA_REDIS_URL: redisUrl as string,
        TESSERA_REDIS_PREFIX: prefix(),
      }),
    );
    try {
      const redis = tessera.redis?.client as NonNullable<typeof tessera.redis>['client'];
      const users = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          tessera.accounts.register({ email: `mem${i}.${process.pid}@example.com`, password: PASSWORD }),
        ),
      );
      const client = {
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      };
      const ids: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        ids.push((await tessera.sessions.create((users[i % 10] as { id: string }).id, client)).session.id);
      }
      // MEMORY USAGE of this deployment's own keys (other users of the Redis do not count), on a
      // connection without the key prefix: ioredis would prefix the subcommand, not the key.
      const raw = tessera.redis?.duplicate() as typeof redis;
      await raw.connect();
      const usage = async (key: string) =>
        Number(await raw.call('MEMORY', 'USAGE', `${tessera.redis?.settings.prefix}${key}`));
      let copies = 0;
      for (const id of ids.slice(0, 500)) copies += await usage(`s:${id}`);
      let indexes = (await usage('sweep:seen')) + (await usage('sweep:expires'));
      for (const user of users) indexes += await usage(`u:${user.id}`);
      const perSession = copies / 500 + indexes / ids.length;
      raw.disconnect();
      console.log(`Redis memory per cached session: ${perSession.toFixed(0)} bytes`);
    } finally {
      await tessera.close();
    }
  });

  /** Three hybrid nodes; a logout on node 3, then nodes 1 and 2 polled as fast as they answer. */
  const revocationDelays = async (bus: 'redis' | 'postgres', samples: number) => {
    const env: Record<string, string> = {
      TESSERA_MODE: 'hybrid',
      TESSERA_DATABASE_URL: await schemaUrl(pgUrl as string, testSchema()),
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TESSERA_RATE_LIMIT: 'off',
      ...(bus === 'redis' ? { TESSERA_REDIS_URL: redisUrl as string, TESSERA_REDIS_PREFIX: prefix() } : {}),
    };
    const email = `m.${bus}@example.com`;
    // Only serve and migrate create a database's tables; the other commands refuse an empty one.
    expect((await runCli(['migrate'], env)).code).toBe(0);
    expect((await runCli(['users', 'create', '--email', email], env, `${PASSWORD}\n`)).code).toBe(0);
    const nodes: Node[] = [];
    try {
      for (let i = 1; i <= 3; i++) nodes.push(await startNode(`node ${i}`, env));
      const [n1, n2, n3] = nodes as [Node, Node, Node];
      const delays: number[] = [];
      for (let s = 0; s < samples; s++) {
        const token = credentialOf(await bearerLogin(n1, email, PASSWORD));
        for (const node of [n1, n2])
          expect((await call(node, 'GET', '/auth/session', { token })).status).toBe(200);
        const logout = await call(n3, 'POST', '/auth/logout', { token });
        const committed = performance.now();
        expect(logout.status).toBe(204);
        await Promise.all(
          [n1, n2].map(async (node) => {
            for (;;) {
              const reply = await call(node, 'GET', '/auth/session', { token });
              if (reply.status === 401) break;
            }
            delays.push(performance.now() - committed);
          }),
        );
      }
      return summary(delays);
    } finally {
      for (const node of nodes) await stopNode(node);
    }
  };

  it('cross-node revocation delay in hybrid mode: Redis bus and PostgreSQL bus', {
    timeout: 300_000,
  }, async () => {
    assertBuilt();
    const redis = await revocationDelays('redis', 100);
    const postgres = await revocationDelays('postgres', 100);
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `| ${name} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} |`;
    console.log(
      [
        '| bus | samples (node × logout) | p50 ms | p99 ms | max ms |',
        '| --- | --- | --- | --- | --- |',
        row('Redis pub/sub', redis),
        row('PostgreSQL LISTEN/NOTIFY', postgres),
      ].join('\n'),
    );
  });
});
