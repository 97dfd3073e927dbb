import type { EmailVerificationStore } from '../ports/email-verifications.js';

export class MemoryEmailVerifications implements EmailVerificationStore {
  readonly #verified = new Map<string, string>();

  async markEmailVerified(userId: string, email: string): Promise<void> {
    this.#verified.set(userId, email);
  }

  async verifiedEmail(userId: string): Promise<string | undefined> {
    return this.#verified.get(userId);
  }

  async verifiedEmails(userIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const id of userIds) {
      const email = this.#verified.get(id);
      if (email !== undefined) found.set(id, email);
    }
    return found;
  }
}
