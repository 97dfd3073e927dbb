import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenStore } from '../ports/email-tokens.js';

export class MemoryEmailTokens implements EmailTokenStore {
  readonly #tokens = new Map<string, EmailTokenRecord>();

  async createEmailToken(token: EmailTokenRecord): Promise<void> {
    this.#tokens.set(token.id, { ...token });
  }

  async findEmailToken(id: string): Promise<EmailTokenRecord | undefined> {
    const token = this.#tokens.get(id);
    return token && { ...token };
  }

  async useEmailToken(id: string, usedAt: number): Promise<boolean> {
    const token = this.#tokens.get(id);
    if (!token || token.usedAt !== null) return false;
    token.usedAt = usedAt;
    return true;
  }

  async retireEmailTokens(userId: string, purpose: EmailTokenPurpose, usedAt: number): Promise<number> {
    let retired = 0;
    for (const token of this.#tokens.values()) {
      if (token.userId === userId && token.purpose === purpose && token.usedAt === null) {
        token.usedAt = usedAt;
        retired++;
      }
    }
    return retired;
  }

  async deleteExpiredEmailTokens(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, token] of this.#tokens) {
      if (token.expiresAt < before) {
        this.#tokens.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
