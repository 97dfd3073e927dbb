import type { WebAuthnChallengeRecord, WebAuthnChallengeStore } from '../ports/webauthn-challenges.js';

export class MemoryWebAuthnChallenges implements WebAuthnChallengeStore {
  readonly #challenges = new Map<string, WebAuthnChallengeRecord>();

  async createChallenge(challenge: WebAuthnChallengeRecord): Promise<void> {
    if (this.#challenges.has(challenge.challengeHash)) throw new Error('duplicate challenge');
    this.#challenges.set(challenge.challengeHash, { ...challenge });
  }

  async takeChallenge(challengeHash: string): Promise<WebAuthnChallengeRecord | undefined> {
    // No await between the read and the delete: one taker only.
    const challenge = this.#challenges.get(challengeHash);
    this.#challenges.delete(challengeHash);
    return challenge;
  }

  async deleteExpiredChallenges(before: number): Promise<number> {
    let deleted = 0;
    for (const [hash, challenge] of this.#challenges) {
      if (challenge.expiresAt < before && this.#challenges.delete(hash)) deleted++;
    }
    return deleted;
  }
}
