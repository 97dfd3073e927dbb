import { randomBytes } from 'node:crypto';

/**
 * Core never reads the wall clock or the CSPRNG directly: both come in through this
 * runtime, so tests can move time (idle and absolute expiry) without sleeping.
 */
export interface Runtime {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Cryptographically secure random bytes. */
  randomBytes(size: number): Buffer;
}

export const systemRuntime: Runtime = {
  now: () => Date.now(),
  randomBytes: (size) => randomBytes(size),
};

/** A clock that only moves when told to; for tests and simulations. */
export function manualRuntime(start = Date.UTC(2026, 0, 1)): Runtime & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    randomBytes: (size) => randomBytes(size),
    advance(ms) {
      now += ms;
    },
  };
}
