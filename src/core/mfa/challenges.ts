import type { MfaChallengeRecord, MfaChallengeStore } from '../../store/ports/mfa-challenges.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { issueToken, parseToken, secretMatches } from '../tokens.js';

/** Five minutes to open the authenticator app and type a code; then the password again. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;

const invalid = () => new AuthError('mfa_challenge_invalid');

/**
 * The pending login between the password and the second factor: an opaque `<id>.<secret>`
 * (only the secret's SHA-256 is stored) that opens nothing but `POST /auth/mfa/verify` (or,
 * with purpose `enrol`, the enrolment routes). Single use: the successful step deletes it, and
 * of racing steps only the one whose delete took it opens a login.
 */
export class MfaChallenges {
  constructor(private readonly deps: { store: MfaChallengeStore; runtime: Runtime }) {}

  async issue(
    userId: string,
    purpose: MfaChallengeRecord['purpose'],
    amr: readonly string[],
  ): Promise<string> {
    const { runtime, store } = this.deps;
    const { id, token, secretHash } = issueToken(runtime);
    const now = runtime.now();
    await store.createMfaChallenge({
      id,
      secretHash,
      userId,
      purpose,
      amr: [...amr],
      createdAt: now,
      expiresAt: now + MFA_CHALLENGE_TTL_MS,
    });
    return token;
  }

  /** The live challenge a presented token names (constant-time secret check), or 401 mfa_challenge_invalid. */
  async find(presented: unknown, purpose?: MfaChallengeRecord['purpose']): Promise<MfaChallengeRecord> {
    const parsed = typeof presented === 'string' ? parseToken(presented) : undefined;
    if (!parsed) throw invalid();
    const record = await this.deps.store.findMfaChallenge(parsed.id);
    if (!record || !secretMatches(parsed.secret, record.secretHash)) throw invalid();
    if (this.deps.runtime.now() >= record.expiresAt) {
      await this.deps.store.deleteMfaChallenge(record.id);
      throw invalid();
    }
    if (purpose !== undefined && record.purpose !== purpose) throw invalid();
    return record;
  }

  /** Uses the challenge up; 401 when another request already did. */
  async take(record: MfaChallengeRecord): Promise<void> {
    if (!(await this.deps.store.deleteMfaChallenge(record.id))) throw invalid();
  }

  endAllOf(userId: string): Promise<number> {
    return this.deps.store.deleteUserMfaChallenges(userId);
  }

  sweep(): Promise<number> {
    return this.deps.store.deleteExpiredMfaChallenges(this.deps.runtime.now());
  }
}
