import type { SecondFactorStore } from '../../store/ports/second-factors.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** Per-account limit on second-factor attempts (codes, recovery codes, passkeys). */
export interface MfaAttemptPolicy {
  /** Failures allowed before any wait. */
  free: number;
  /** The wait after the first failure over the allowance; doubles with each further one. */
  baseMs: number;
  maxMs: number;
}

/**
 * 5 free, then 1 s, 2 s, 4 s … up to 15 minutes between attempts, until a success. A 6-digit
 * code with ±1 step has 3 valid values in 10^6: at most ~100 tries a day once backing off
 * hard, so a guess succeeds with odds of about 3 in 10,000 per day of trying.
 */
export const DEFAULT_MFA_ATTEMPT_POLICY: MfaAttemptPolicy = { free: 5, baseMs: 1_000, maxMs: 15 * 60_000 };

/**
 * The counter lives in the database (mfa_attempts), so every node shares it and it survives a
 * restart; the login's IP does not matter (a code is worthless without the password, so the
 * account is the thing attacked). Each attempt is counted BEFORE it is checked, by a
 * compare-and-set: racing attempts cannot share one allowance. A success resets the count.
 */
export class MfaAttempts {
  constructor(
    private readonly deps: { store: SecondFactorStore; runtime: Runtime; policy: MfaAttemptPolicy },
  ) {}

  /** Counts one attempt; 429 rate_limited (with retryAfterSeconds) while the account must wait. */
  async begin(userId: string): Promise<void> {
    const { store, runtime, policy } = this.deps;
    const now = runtime.now();
    const current = await store.findMfaAttempts(userId);
    const failures = current?.failures ?? 0;
    if (current && now < current.blockedUntil) throw tooMany(current.blockedUntil - now);
    const over = failures + 1 - policy.free;
    const wait = over > 0 ? Math.min(policy.baseMs * 2 ** Math.min(over - 1, 40), policy.maxMs) : 0;
    const counted = await store.swapMfaAttempts(userId, failures, {
      failures: failures + 1,
      blockedUntil: now + wait,
    });
    // Another attempt was counted in between: this one waits its turn.
    if (!counted) throw tooMany(1_000);
  }

  /** A success: the account starts afresh. */
  async succeeded(userId: string): Promise<void> {
    const current = await this.deps.store.findMfaAttempts(userId);
    if (current && current.failures > 0) {
      await this.deps.store.swapMfaAttempts(userId, current.failures, { failures: 0, blockedUntil: 0 });
    }
  }
}

/** 429 rate_limited; the route adds Retry-After from `retryAfterSeconds`. */
function tooMany(waitMs: number): AuthError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const error = new AuthError(
    'rate_limited',
    `Too many attempts: try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
  );
  return Object.assign(error, { retryAfterSeconds: seconds });
}
