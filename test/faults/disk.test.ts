import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlStores } from '../../src/store/sql/stores.js';
import { runCli } from '../cli-process.js';
import { PASSWORD, post, startTessera, tempDir } from '../helpers.js';
import { FaultLoad, runFault } from './load.js';
import { sleep, startNode, type TesseraNode } from './node.js';

/**
 * SQLite's disk failing under a running node: full, read-only, the file deleted. The disk is a
 * small tmpfs the test mounts (root only); where mounting is not allowed the tests that need
 * it are skipped with one loud line.
 */
const RECOVERY_BOUND_MS = 15_000;
// Room for the database and its WAL (checkpointed at ~4 MB), and little more.
const SIZE = '16m';

function mountTmpfs(): { dir: string; unmount(): void } | string {
  const dir = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tessera-test', dir], { stdio: 'pipe' });
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim() || 'mount failed';
  }
  return { dir, unmount: () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }) };
}

/** Writes until the filesystem says ENOSPC; returns the filler's path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

const tmpfs = mountTmpfs();
if (typeof tmpfs === 'string') {
  console.warn(
    `\n!!! SKIPPED disk-full and read-only faults: cannot mount a tmpfs (${tmpfs}); run as root to include them.\n`,
  );
}

describe('SQLite disk faults', () => {
  const cleanup: Array<() => unknown> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  });

  async function nodeOn(dir: string): Promise<TesseraNode> {
    const node = await startNode({ TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}` });
    cleanup.push(() => node.stop());
    return node;
  }

  it.skipIf(typeof tmpfs === 'string')(
    'disk full: 503 storage_full (never 500), /healthz names it, acknowledged writes survive, recovery by itself',
    async () => {
      if (typeof tmpfs === 'string') return;
      cleanup.push(() => tmpfs.unmount());
      const node = await nodeOn(tmpfs.dir);
      const load = new FaultLoad(node, 'session');
      await load.prepare(2, 2);
      load.start(4);
      let filler = '';
      const health: unknown[] = [];
      const writes: unknown[] = [];
      const { recoveryMs, fault } = await runFault(load, 'sqlite disk full', {
        fault: () => {
          filler = fillDisk(tmpfs.dir);
        },
        faultMs: 1_000,
        during: async () => {
          await sleep(300);
          health.push((await node.request('GET', '/healthz')).body);
          writes.push(
            (
              await node.request('POST', '/auth/register', {
                body: { email: 'full@example.com', password: 'correct horse battery staple' },
              })
            ).body,
          );
        },
        heal: () => rmSync(filler),
      });
      await load.stop();
      console.log(
        `[fault] sqlite disk full: /healthz ${JSON.stringify(health)}; a registration ${JSON.stringify(writes)}`,
      );
      expect(health).toEqual([
        expect.objectContaining({ down: ['store'], reasons: { store: 'storage_full' } }),
      ]);
      expect(writes).toEqual([expect.objectContaining({ error: 'storage_full' })]);
      expect(fault['503']).toBeGreaterThan(0);
      await load.verify();
      expect(node.alive(), node.stderr()).toBe(true);
      expect(load.violations).toEqual([]);
      expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
    },
    40_000,
  );

  it('read-only database (PRAGMA query_only, as a read-only remount would): 503 storage_read_only, /healthz names it, then recovers', async () => {
    // A filesystem cannot be remounted read-only while the node holds the file open for
    // writing; query_only makes SQLite itself refuse every write with SQLITE_READONLY.
    const server = await startTessera();
    cleanup.push(() => server.close());
    const { app, tessera } = server;
    const db = (tessera.stores as SqlStores).db;
    await sql`pragma query_only = on`.execute(db);
    const registration = await post(app, '/auth/register', { email: 'ro@example.com', password: PASSWORD });
    expect(registration.statusCode).toBe(503);
    expect(registration.json()).toMatchObject({ error: 'storage_read_only' });
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ down: ['store'], reasons: { store: 'storage_read_only' } });
    await sql`pragma query_only = off`.execute(db);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(
      (await post(app, '/auth/register', { email: 'ro@example.com', password: PASSWORD })).statusCode,
    ).toBe(201);
  });

  it('TESSERA_SQLITE_SYNCHRONOUS: NORMAL by default, FULL (an fsync per commit) when asked', async () => {
    const synchronousOf = async (env: Record<string, string>) => {
      const server = await startTessera({ env });
      cleanup.push(() => server.close());
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(
        (server.tessera.stores as SqlStores).db,
      );
      return rows[0]?.synchronous;
    };
    expect(await synchronousOf({})).toBe(1); // NORMAL
    expect(await synchronousOf({ TESSERA_SQLITE_SYNCHRONOUS: 'full' })).toBe(2); // FULL
  });

  it('the database file deleted under a running node: /healthz 503 storage_failed; the next start refuses', async () => {
    const dir = tempDir();
    const node = await nodeOn(dir);
    rmSync(join(dir, 'tessera.db'));
    const health = await node.request('GET', '/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ down: ['store'], reasons: { store: 'storage_failed' } });
    expect(await node.stop()).toBe(0);
    const restart = await runCli(['migrate'], {
      TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}`,
    });
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(
      /^tessera: the SQLite database .* is missing, but .* says it was created before/,
    );
  });
});
