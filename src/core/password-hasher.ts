import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AuthError } from './errors.js';
import {
  type Argon2Options,
  HASH_THREAD_NICE,
  type HashJobMessage,
  type HashWorkerData,
  type HashWorkerMessage,
  PASSWORD_HASH_WORKER_SOURCE,
} from './password-hash-worker.js';

/**
 * Jobs that may wait for a thread, per thread. One argon2id job costs ~15-20 ms of one core,
 * so a full queue is ~4-5 s of work: a burst of hundreds of logins at once still waits its turn,
 * while past that a client is better told to retry (503 `busy`) than left waiting, and a login
 * flood cannot grow memory without bound.
 */
export const MAX_QUEUED_PER_THREAD = 256;

/** 503: the queue of jobs waiting for a hashing thread is full. */
export const hashingBusy = () => new AuthError('busy');

/** What a thread reported when it started: its Linux thread id and the nice value it runs at. */
export interface HashThreadInfo {
  tid: number | undefined;
  nice: number | undefined;
  /** Set when lowering the priority failed (an errno code like EACCES): it hashes at normal priority. */
  priorityError: string | undefined;
}

export interface PasswordHasherOptions {
  /** Hashing threads (at least 1). */
  threads: number;
  /** Jobs that may wait for a thread; MAX_QUEUED_PER_THREAD × threads by default. */
  maxQueued?: number;
  /** Told once if a thread could not lower its priority (no secret in it). */
  onWarning?: (message: string) => void;
  /** Told, for each job a thread takes, how long it waited for one (metrics). */
  onJobStarted?: (waitedMs: number) => void;
}

interface Job {
  message: HashJobMessage;
  queuedAt: number;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  info: HashThreadInfo | undefined;
}

const argon2Path = createRequire(import.meta.url).resolve('@node-rs/argon2');

/**
 * A pool of worker threads that hash and verify passwords with argon2id, each thread at the
 * lowest scheduling priority (see password-hash-worker.ts), so password hashing never takes
 * the core from the event loop. Threads start on demand and hold the process open only while
 * they have a job; a queue bounded in length holds jobs waiting for a thread.
 *
 * A thread that dies (crash, termination) fails the job it had with an error, never silently,
 * and is replaced. close() rejects every pending job and ends the
 * threads.
 */
export class PasswordHasher {
  #threads: number;
  readonly #maxQueued: number | undefined;
  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #onJobStarted: ((waitedMs: number) => void) | undefined;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #warned = false;

  constructor(options: PasswordHasherOptions) {
    this.#threads = checkThreads(options.threads);
    this.#maxQueued = options.maxQueued;
    this.#onWarning = options.onWarning;
    this.#onJobStarted = options.onJobStarted;
  }

  get threads(): number {
    return this.#threads;
  }

  get maxQueued(): number {
    return this.#maxQueued ?? MAX_QUEUED_PER_THREAD * this.#threads;
  }

  /** The PHC string of the password under these argon2 options. */
  hash(password: string, options: Argon2Options): Promise<string> {
    return this.#submit({
      id: this.#nextId++,
      op: 'hash',
      password,
      options: { ...options },
    }) as Promise<string>;
  }

  /** Whether the password matches the PHC string; false (never a throw) for a malformed one. */
  verify(phc: string, password: string): Promise<boolean> {
    return this.#submit({ id: this.#nextId++, op: 'verify', phc, password }) as Promise<boolean>;
  }

  /** Fewer or more threads from now on: extra threads end as soon as they are idle. */
  resize(threads: number): void {
    this.#threads = checkThreads(threads);
    for (const slot of [...this.#slots]) {
      if (this.#slots.length <= this.#threads) break;
      if (!slot.job) this.#retire(slot);
    }
    this.#dispatch();
  }

  /** Rejects every job not yet answered and ends the threads. Later calls reject at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = () => new Error('The password hasher is closed.');
    for (const job of this.#queue.splice(0)) job.reject(closed());
    const slots = this.#slots.splice(0);
    for (const slot of slots) {
      const job = slot.job;
      slot.job = undefined;
      job?.reject(closed());
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** Test-only: the running threads and what they reported at start. */
  get threadsForTesting(): readonly { worker: Worker; info: HashThreadInfo | undefined; busy: boolean }[] {
    return this.#slots.map((slot) => ({
      worker: slot.worker,
      info: slot.info,
      busy: slot.job !== undefined,
    }));
  }

  /** Jobs waiting for a thread (metrics; tests). */
  get queued(): number {
    return this.#queue.length;
  }

  #submit(message: HashJobMessage): Promise<string | boolean> {
    if (this.#closed) return Promise.reject(new Error('The password hasher is closed.'));
    // A free thread takes the job now; otherwise it waits, if there is room.
    const waiting = this.#queue.length + 1;
    const free = this.#slots.some((slot) => !slot.job) || this.#slots.length < this.#threads;
    if (!free && waiting > this.maxQueued) return Promise.reject(hashingBusy());
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, queuedAt: performance.now(), resolve, reject });
      this.#dispatch();
    });
  }

  /** Hands waiting jobs to idle threads, starting threads up to the pool size. */
  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = this.#slots.find((s) => !s.job);
      if (!slot) {
        if (this.#slots.length >= this.#threads) return;
        slot = this.#spawn();
      }
      const job = this.#queue.shift() as Job;
      slot.job = job;
      this.#onJobStarted?.(performance.now() - job.queuedAt);
      slot.worker.ref();
      slot.worker.postMessage(job.message);
    }
  }

  #spawn(): Slot {
    const workerData: HashWorkerData = { argon2Path, nice: HASH_THREAD_NICE };
    const worker = new Worker(PASSWORD_HASH_WORKER_SOURCE, { eval: true, workerData });
    const slot: Slot = { worker, job: undefined, info: undefined };
    this.#slots.push(slot);
    worker.unref();
    let failure: Error | undefined;
    worker.on('message', (message: HashWorkerMessage) => this.#answer(slot, message));
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', () => {
      // Still in the pool: not ended by close() or resize(), so it crashed or was killed.
      const index = this.#slots.indexOf(slot);
      if (index < 0) return;
      this.#slots.splice(index, 1);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        // 503, not a 500: the thread is replaced at once, so the client's retry finds a new one.
        job.reject(
          new AuthError(
            'password_hashing_failed',
            'The password-hashing thread stopped unexpectedly; try again.',
            { cause: failure },
          ),
        );
      }
      // A thread that had started properly is replaced at once; one that never did (argon2
      // would not load) only when a job needs a thread, so a broken setup cannot spin.
      if (slot.info && !this.#closed && this.#slots.length < this.#threads) this.#spawn();
      this.#dispatch();
    });
    return slot;
  }

  #answer(slot: Slot, message: HashWorkerMessage): void {
    if (message.type === 'ready') {
      slot.info = { tid: message.tid, nice: message.nice, priorityError: message.priorityError };
      if (message.priorityError && !this.#warned) {
        this.#warned = true;
        this.#onWarning?.(
          `password hashing could not lower its threads' priority (${message.priorityError}): it competes with requests at normal priority`,
        );
      }
      return;
    }
    const job = slot.job;
    if (!job || job.message.id !== message.id) return;
    slot.job = undefined;
    if (message.type === 'done') job.resolve(message.value);
    else job.reject(new Error(`Password hashing failed: ${message.message}`));
    if (this.#slots.length > this.#threads) {
      this.#retire(slot);
    } else {
      slot.worker.unref();
    }
    this.#dispatch();
  }

  /** Ends an idle thread the pool no longer needs (it shrank). */
  #retire(slot: Slot): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    slot.worker.unref();
    void slot.worker.terminate();
  }
}

function checkThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`password-hashing threads must be a positive integer (got ${threads})`);
  }
  return threads;
}
