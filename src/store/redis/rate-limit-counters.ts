import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../errors.js';

/** The operations the HTTP rate limits use (http/plugins/backoff.ts CounterEngine), over Redis. */
interface Counter {
  consume(key: string, points?: number, options?: { customDuration?: number }): Promise<RateLimiterRes>;
  penalty(key: string, points?: number): Promise<RateLimiterRes>;
  reward(key: string, points?: number): Promise<RateLimiterRes>;
  delete(key: string): Promise<boolean>;
}

/**
 * Rate-limit counters shared by every node: rate-limiter-flexible's RateLimiterRedis on the
 * command connection (keys get its prefix). Each operation is one atomic script or MULTI in
 * Redis, so parallel requests on different nodes cannot overrun a count. A Redis failure is a
 * StoreUnavailableError (503): limits fail closed, a login is never let through uncounted.
 * A refusal (RateLimiterRes) passes through unchanged.
 */
export function redisCounters(redis: Redis) {
  return (options: { keyPrefix: string; points: number; duration: number }): Counter => {
    const limiter = new RateLimiterRedis({ storeClient: redis, rejectIfRedisNotReady: true, ...options });
    const guarded =
      <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await operation(...args);
        } catch (error) {
          if (error instanceof RateLimiterRes) throw error;
          throw new StoreUnavailableError('redis', { cause: error });
        }
      };
    return {
      consume: guarded((key, points, consumeOptions) => limiter.consume(key, points, consumeOptions)),
      penalty: guarded((key: string, points?: number) => limiter.penalty(key, points)),
      reward: guarded((key: string, points?: number) => limiter.reward(key, points)),
      delete: guarded((key: string) => limiter.delete(key)),
    };
  };
}
