import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import { HASH_THREAD_NICE } from '../../src/core/password-hash-worker.js';
import { MAX_QUEUED_PER_THREAD, PasswordHasher } from '../../src/core/password-hasher.js';
import { ARGON2_PARAMS, hashPassword, usePasswordHashing, verifyPassword } from '../../src/core/passwords.js';
import { newEmail, PASSWORD, startTessera } from '../helpers.js';

const linux = process.platform === 'linux' && existsSync('/proc/thread-self');

/** Fields of /proc/self/task/<tid>/stat after the command name: [11] utime, [12] stime, [16] nice. */
function taskStat(tid: number): string[] {
  const text = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}
const niceOf = (tid: number) => Number(taskStat(tid)[16]);
const cpuTicksOf = (tid: number) => {
  const stat = taskStat(tid);
  return Number(stat[11]) + Number(stat[12]);
};
/** Threads of this process running at the hashing nice value (nothing else here lowers itself). */
const niceThreads = () =>
  readdirSync('/proc/self/task').filter((tid) => {
    try {
      return niceOf(Number(tid)) === HASH_THREAD_NICE;
    } catch {
      return false; // the thread ended while we looked
    }
  }).length;

const pools: PasswordHasher[] = [];
function pool(threads: number, maxQueued?: number): PasswordHasher {
  const hasher = new PasswordHasher({ threads, maxQueued });
  pools.push(hasher);
  return hasher;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((hasher) => hasher.close()));
});

/** Resolves once the pool has started a thread and heard from it. */
async function readyThreads(hasher: PasswordHasher, count: number) {
  await Promise.all(Array.from({ length: count }, (_, i) => hasher.verify('not a phc string', String(i))));
  const threads = hasher.threadsForTesting;
  expect(threads).toHaveLength(count);
  return threads;
}

describe('password hashing pool: same results as argon2id directly', () => {
  it('verifies a hash made by @node-rs/argon2 directly, and makes hashes it verifies', async () => {
    const hasher = pool(2);
    const direct = await hash('tessera mosaic', ARGON2_PARAMS);
    expect(await hasher.verify(direct, 'tessera mosaic')).toBe(true);
    expect(await hasher.verify(direct, 'tessera mosaiC')).toBe(false);

    const pooled = await hasher.hash('pässwörd 🔑 mosaic', ARGON2_PARAMS);
    expect(pooled).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verify(pooled, 'pässwörd 🔑 mosaic')).toBe(true);
    expect(await verify(pooled, 'passwörd 🔑 mosaic')).toBe(false);
  });

  it('hashPassword and verifyPassword go through it and agree with argon2id directly', async () => {
    const phc = await hashPassword('tessera mosaic');
    expect(await verify(phc, 'tessera mosaic')).toBe(true);
    expect(await verifyPassword(await hash('other words', ARGON2_PARAMS), 'other words')).toBe(true);
    expect(await verifyPassword(phc, 'tessera')).toBe(false);
  });

  it('answers false, never a throw, for a malformed stored hash', async () => {
    const hasher = pool(1);
    for (const phc of ['', 'not a phc string', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', '$2b$10$x']) {
      expect(await hasher.verify(phc, 'anything'), phc).toBe(false);
    }
    expect(await verifyPassword('$argon2id$v=19$broken', 'anything')).toBe(false);
  });
});

describe('password hashing pool: concurrency, limits, failures', () => {
  it('answers many parallel verifications, each correctly', async () => {
    const hasher = pool(2);
    const phc = await hasher.hash('right password', ARGON2_PARAMS);
    const attempts = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? 'wrong password' : 'right password',
    );
    const answers = await Promise.all(attempts.map((attempt) => hasher.verify(phc, attempt)));
    expect(answers).toEqual(attempts.map((attempt) => attempt === 'right password'));
    expect(hasher.threadsForTesting.length).toBeLessThanOrEqual(2);
  });

  it('refuses a job with 503 `busy` when the queue is full, and still answers the others', async () => {
    const hasher = pool(1, 2);
    const phc = await hasher.hash('right password', ARGON2_PARAMS);
    const accepted = [1, 2, 3].map(() => hasher.verify(phc, 'right password')); // 1 running, 2 waiting
    const refused = await hasher.verify(phc, 'right password').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused).toMatchObject({ code: 'busy', status: 503 });
    expect(await Promise.all(accepted)).toEqual([true, true, true]);
    // Room again once the queue drained.
    expect(await hasher.verify(phc, 'right password')).toBe(true);
  });

  it('bounds the queue by default at MAX_QUEUED_PER_THREAD per thread', () => {
    expect(pool(3).maxQueued).toBe(3 * MAX_QUEUED_PER_THREAD);
  });

  it('close() rejects pending jobs, ends the threads, and refuses later jobs', async () => {
    const hasher = pool(2);
    const threads = await readyThreads(hasher, 2);
    const pending = Array.from({ length: 6 }, (_, i) => hasher.hash(`password ${i}`, ARGON2_PARAMS));
    const settled = Promise.allSettled(pending);
    await hasher.close();
    for (const result of await settled) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.message).toMatch(/closed/);
    }
    expect(hasher.threadsForTesting).toHaveLength(0);
    for (const { worker } of threads) expect(worker.threadId).toBe(-1); // terminated
    if (linux) {
      for (const { info } of threads) expect(existsSync(`/proc/self/task/${info?.tid}`)).toBe(false);
    }
    await expect(hasher.verify('x', 'y')).rejects.toThrow(/closed/);
  });

  it('a thread killed mid-job fails that job with an error and is replaced', async () => {
    const hasher = pool(1);
    const [first] = await readyThreads(hasher, 1);
    const job = hasher.hash('tessera mosaic', ARGON2_PARAMS);
    await first?.worker.terminate();
    await expect(job).rejects.toThrow(/stopped unexpectedly/);
    // A moment's failure for the client (503 with Retry-After), not a 500.
    await expect(job).rejects.toMatchObject({ code: 'password_hashing_failed', status: 503 });
    const [replacement] = hasher.threadsForTesting; // started at once, before any job asks
    expect(replacement?.worker).toBeDefined();
    expect(replacement?.worker).not.toBe(first?.worker);
    const phc = await hasher.hash('tessera mosaic', ARGON2_PARAMS);
    expect(await verify(phc, 'tessera mosaic')).toBe(true);
    expect(hasher.threadsForTesting.map(({ worker }) => worker)).toEqual([replacement?.worker]);
  });

  it('a thread that crashes on a bad message fails the job queued behind it and is replaced', async () => {
    const hasher = pool(1);
    const [first] = await readyThreads(hasher, 1);
    const phc = await hash('tessera mosaic', ARGON2_PARAMS);
    first?.worker.postMessage({ id: 0, op: 'no such job' }); // the thread throws and exits
    const job = hasher.verify(phc, 'tessera mosaic');
    await expect(job).rejects.toThrow(/stopped unexpectedly/);
    expect(await hasher.verify(await hash('again', ARGON2_PARAMS), 'again')).toBe(true);
    expect(hasher.threadsForTesting[0]?.worker).not.toBe(first?.worker);
  });

  it('resize() ends threads beyond the new size', async () => {
    const hasher = pool(3);
    await readyThreads(hasher, 3);
    hasher.resize(1);
    expect(hasher.threadsForTesting).toHaveLength(1);
    const answers = await Promise.all([1, 2, 3].map(() => hasher.verify('x', 'y')));
    expect(answers).toEqual([false, false, false]);
    expect(hasher.threadsForTesting).toHaveLength(1);
  });
});

describe('password hashing pool: the event loop keeps the core', () => {
  it.runIf(linux)(
    'each hashing thread runs at HASH_THREAD_NICE (10); the event-loop thread keeps its priority',
    async () => {
      const before = getPriority(0);
      const hasher = pool(2);
      const threads = await readyThreads(hasher, 2);
      for (const { info } of threads) {
        expect(info).toMatchObject({ nice: HASH_THREAD_NICE, priorityError: undefined });
        expect(info?.tid).not.toBe(process.pid);
        expect(niceOf(info?.tid as number)).toBe(HASH_THREAD_NICE);
      }
      expect(getPriority(0)).toBe(before);
      expect(niceOf(process.pid)).toBe(before);
    },
  );

  it.runIf(linux)(
    'hashing costs the event-loop thread almost no CPU, and the loop keeps turning',
    async () => {
      const hasher = pool(2);
      const threads = await readyThreads(hasher, 2);
      const tids = threads.map(({ info }) => info?.tid as number);
      const mainBefore = cpuTicksOf(process.pid);
      const workersBefore = tids.reduce((sum, tid) => sum + cpuTicksOf(tid), 0);

      // 1 ms timers while 32 hashes (8 in flight at a time) run.
      const gaps: number[] = [];
      let running = true;
      const tick = (last: number) =>
        setTimeout(() => {
          const now = performance.now();
          gaps.push(now - last);
          if (running) tick(now);
        }, 1);
      tick(performance.now());
      for (let round = 0; round < 4; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`, ARGON2_PARAMS)));
      }
      running = false;

      const mainTicks = cpuTicksOf(process.pid) - mainBefore;
      const workerTicks = tids.reduce((sum, tid) => sum + cpuTicksOf(tid), 0) - workersBefore;
      // 32 argon2id hashes are ~0.5 s of CPU, all of it on the hashing threads. The event-loop
      // thread still pays for the 1 ms timers, and on a loaded machine the hashes take longer
      // (more timer turns): hence half, not less. Hashing on this thread would fail both lines.
      expect(workerTicks).toBeGreaterThan(20);
      expect(mainTicks * 2).toBeLessThan(workerTicks);
      // CPU time is immune to a busy machine; wall-clock lag is not, so only the median is
      // asserted (well under one ~20 ms hash; the p99 depends on what else the machine runs).
      gaps.sort((a, b) => a - b);
      expect(gaps.length).toBeGreaterThan(20);
      expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThan(10);
    },
  );
});

describe('password hashing threads of a Tessera', () => {
  it('are shared while any holder remains, and end with the last release', async () => {
    const releaseA = usePasswordHashing(2);
    const releaseB = usePasswordHashing(2);
    const phc = await hashPassword('tessera mosaic');
    await releaseA();
    await releaseA(); // twice is once
    expect(await verifyPassword(phc, 'tessera mosaic')).toBe(true);
    const pending = verifyPassword(phc, 'tessera mosaic').catch((error: unknown) => error);
    await releaseB();
    expect(await pending).toMatchObject({ message: expect.stringMatching(/closed/) });
    if (linux) expect(niceThreads()).toBe(0);
    // Used again without a holder: started again, on demand.
    expect(await verifyPassword(phc, 'tessera mosaic')).toBe(true);
  });

  it.runIf(linux)('end when createTessera closes', async () => {
    const server = await startTessera({ env: { TESSERA_PASSWORD_HASH_THREADS: '2' } });
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD });
    expect((await server.tessera.accounts.authenticate({ email, password: PASSWORD })).email).toBe(email);
    expect(niceThreads()).toBeGreaterThan(0);
    expect(niceThreads()).toBeLessThanOrEqual(2);
    await server.close();
    expect(niceThreads()).toBe(0);
  });
});
