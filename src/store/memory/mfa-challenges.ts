import type { MfaChallengeRecord, MfaChallengeStore } from '../ports/mfa-challenges.js';

export class MemoryMfaChallenges implements MfaChallengeStore {
  readonly #challenges = new Map<string, MfaChallengeRecord>();

  async createMfaChallenge(challenge: MfaChallengeRecord): Promise<void> {
    if (this.#challenges.has(challenge.id)) throw new Error(`duplicate mfa challenge id ${challenge.id}`);
    this.#challenges.set(challenge.id, { ...challenge, amr: [...challenge.amr] });
  }

  async findMfaChallenge(id: string): Promise<MfaChallengeRecord | undefined> {
    const challenge = this.#challenges.get(id);
    return challenge && { ...challenge, amr: [...challenge.amr] };
  }

  async deleteMfaChallenge(id: string): Promise<boolean> {
    return this.#challenges.delete(id);
  }

  async deleteUserMfaChallenges(userId: string): Promise<number> {
    return this.#deleteWhere((c) => c.userId === userId);
  }

  async deleteExpiredMfaChallenges(now: number): Promise<number> {
    return this.#deleteWhere((c) => c.expiresAt <= now);
  }

  #deleteWhere(predicate: (challenge: MfaChallengeRecord) => boolean): number {
    let deleted = 0;
    for (const [id, challenge] of this.#challenges) {
      if (predicate(challenge)) {
        this.#challenges.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
