import { RateLimiterCluster, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../../store/errors.js';

/**
 * Exponential backoff over rate-limiter-flexible counters.
 *
 * A key (an IP, an account and IP, ...) gets `free` attempts per window. Past that, attempts
 * pass one at a time: the n-th attempt over the allowance opens a gate that stays shut for
 * base × 2^(n−1) seconds (capped at `maxSeconds`); whoever comes while it is shut gets 429 and
 * a Retry-After, and is not counted. Counting happens *before* the attempt runs (and is
 * refunded afterwards if it turns out not to matter), so a burst of parallel requests cannot
 * slip past the count: each increment is atomic in the counter engine.
 */
export interface BackoffPolicy {
  /** Attempts allowed before any waiting, per window. */
  free: number;
  /** The wait after the first attempt over the allowance; it doubles with each further one. */
  baseSeconds: number;
  maxSeconds: number;
  /** Counts are forgotten this long after the first counted attempt. */
  windowSeconds: number;
}

/** The few operations Backoff needs; every rate-limiter-flexible engine provides them. */
export interface CounterEngine {
  consume(key: string, points?: number, options?: { customDuration?: number }): Promise<RateLimiterRes>;
  penalty(key: string, points?: number): Promise<RateLimiterRes>;
  reward(key: string, points?: number): Promise<RateLimiterRes>;
  delete(key: string): Promise<boolean>;
}

export type CounterFactory = (options: {
  keyPrefix: string;
  points: number;
  duration: number;
}) => CounterEngine;

/**
 * Counters in this process: right for one node. The seam for several nodes is this factory:
 * with TESSERA_REDIS_URL (and the Redis client the Redis store opens), pass
 * `(options) => new RateLimiterRedis({ storeClient: redis, ...options })` as `counters` to
 * rateLimitPlugin; nothing else changes, every operation used here is atomic there too.
 */
export const memoryCounters: CounterFactory = (options) => new RateLimiterMemory(options);

/**
 * Counters kept by the cluster primary for every worker of `tessera serve --workers N` without
 * Redis (src/cli/workers.ts runs the primary's side): each operation is one IPC round trip, and
 * the counts are the same as one process's, so N workers never allow N times the attempts.
 * No answer from the primary within 5 s is a 503 (StoreUnavailableError), never a pass.
 */
export const clusterCounters: CounterFactory = (options) => {
  const limiter = new RateLimiterCluster({ ...options, timeoutMs: 5_000 });
  const guarded =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await operation(...args);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw error;
        throw new StoreUnavailableError('store', {
          cause: error,
          message: 'the rate-limit counters of the cluster primary do not answer',
        });
      }
    };
  return {
    consume: guarded((key: string, points?: number, consumeOptions?: { customDuration?: number }) =>
      limiter.consume(key, points, consumeOptions),
    ),
    penalty: guarded((key: string, points?: number) => limiter.penalty(key, points)),
    reward: guarded((key: string, points?: number) => limiter.reward(key, points)),
    delete: guarded((key: string) => limiter.delete(key)),
  };
};

export type BackoffResult = { allowed: true } | { allowed: false; retryAfterMs: number };

export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #count: CounterEngine;
  readonly #gate: CounterEngine;

  constructor(name: string, policy: BackoffPolicy, counters: CounterFactory) {
    this.#policy = policy;
    // points is irrelevant for the counter (penalty and reward never refuse).
    this.#count = counters({ keyPrefix: `${name}:count`, points: 1, duration: policy.windowSeconds });
    this.#gate = counters({ keyPrefix: `${name}:gate`, points: 1, duration: policy.maxSeconds });
  }

  /** The wait that the `over`-th attempt past the allowance imposes on the next one. */
  waitSeconds(over: number): number {
    const { baseSeconds, maxSeconds } = this.#policy;
    return Math.min(baseSeconds * 2 ** Math.min(over - 1, 40), maxSeconds);
  }

  /** Counts one attempt for `key`; refused while a backoff wait is running. */
  async attempt(key: string): Promise<BackoffResult> {
    const { consumedPoints } = await this.#count.penalty(key, 1);
    const over = consumedPoints - this.#policy.free;
    if (over <= 0) return { allowed: true };
    try {
      // Only the first attempt after the previous wait finds the gate open (atomic consume).
      await this.#gate.consume(key, 1, { customDuration: this.waitSeconds(over) });
      return { allowed: true };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      await this.#count.reward(key, 1);
      return { allowed: false, retryAfterMs: Math.max(rejection.msBeforeNext, 1) };
    }
  }

  /** The attempt did not count after all (a malformed request, a success that forgives). */
  async refund(key: string): Promise<void> {
    await this.#count.reward(key, 1);
  }

  /** Forget the key: its owner proved who they are. */
  async reset(key: string): Promise<void> {
    await Promise.all([this.#count.delete(key), this.#gate.delete(key)]);
  }
}
