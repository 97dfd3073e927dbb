/**
 * The code of one password-hashing thread (PasswordHasher starts these) and the messages it
 * exchanges with the pool.
 *
 * The thread first lowers its OWN scheduling priority to nice HASH_THREAD_NICE. On Linux
 * setpriority(2) with who = 0 names the calling thread, not the whole process: measured on Node 20
 * with /proc/self/task/<tid>/stat (field 19) and `ps -L -o tid,ni`, the worker thread reads it while
 * the event-loop thread and libuv's threads stay at 0. It then runs @node-rs/argon2's
 * SYNCHRONOUS hashSync/verifySync, so the hashing happens on this thread at that priority and
 * the event loop wins the core whenever it has work. If the priority cannot be lowered
 * (a sandbox refusing setpriority) it hashes at normal priority and says so in `ready`.
 *
 * The code is a CommonJS string run with `eval: true` rather than a file next to this one, so
 * it starts the same from src/ (vitest, no build) and from dist/. @node-rs/argon2 is resolved
 * by the pool and handed over as a path, so the thread loads the same copy whatever the cwd.
 * Passwords arrive only in messages; nothing here logs, and errors never carry an argument.
 */

/** What the thread is given at start (workerData). */
/**
 * 10, not 19: against the event loop (nice 0) a hashing thread then gets ~10% of a shared core
 * (CFS weights 1024 : 110), so authenticated requests still go first during a login storm; yet
 * on a host whose other programs keep the core busy at normal priority, logins still get ~10%
 * of it. At 19 (weight 15) such a neighbour cut logins to ~3/s in a test, against ~46/s.
 */
export const HASH_THREAD_NICE = 10;

export interface HashWorkerData {
  argon2Path: string;
  nice: number;
}

export interface Argon2Options {
  algorithm: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Pool → thread: one job at a time. */
export type HashJobMessage =
  | { id: number; op: 'hash'; password: string; options: Argon2Options }
  | { id: number; op: 'verify'; phc: string; password: string };

/** Thread → pool: once at start, then one answer per job. */
export type HashWorkerMessage =
  | { type: 'ready'; tid: number | undefined; nice: number | undefined; priorityError: string | undefined }
  | { type: 'done'; id: number; value: string | boolean }
  | { type: 'failed'; id: number; message: string };

export const PASSWORD_HASH_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const fs = require('node:fs');

let priorityError;
try {
  os.setPriority(0, workerData.nice);
} catch (error) {
  priorityError = String((error && error.code) || 'failed');
}
let tid;
try {
  tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop()) || undefined;
} catch {}
let nice;
try {
  nice = os.getPriority(0);
} catch {}

const { hashSync, verifySync } = require(workerData.argon2Path);
parentPort.postMessage({ type: 'ready', tid, nice, priorityError });

parentPort.on('message', (job) => {
  if (job.op === 'hash') {
    let phc;
    try {
      phc = hashSync(job.password, job.options);
    } catch (error) {
      parentPort.postMessage({ type: 'failed', id: job.id, message: String(error && error.message) });
      return;
    }
    parentPort.postMessage({ type: 'done', id: job.id, value: phc });
  } else if (job.op === 'verify') {
    let valid = false;
    try {
      valid = verifySync(job.phc, job.password);
    } catch {
      // A malformed stored hash never lets anyone in, nor crashes the thread.
    }
    parentPort.postMessage({ type: 'done', id: job.id, value: valid === true });
  } else {
    // Not a job this pool sends: stop the thread (the pool rejects what it had and replaces it).
    throw new Error('unknown password-hashing job');
  }
});
`;
