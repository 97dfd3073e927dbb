import type {
  MfaAttemptRecord,
  RecoveryCodeRecord,
  SecondFactorStore,
  TotpFactorRecord,
} from '../ports/second-factors.js';

/** Every check and its write with no await between: atomic, as the SQL compare-and-sets. */
export class MemorySecondFactors implements SecondFactorStore {
  readonly #totp = new Map<string, TotpFactorRecord>();
  readonly #codes = new Map<string, RecoveryCodeRecord[]>();
  readonly #attempts = new Map<string, MfaAttemptRecord>();

  async findTotp(userId: string): Promise<TotpFactorRecord | undefined> {
    const record = this.#totp.get(userId);
    return record && { ...record };
  }

  async savePendingTotp(record: TotpFactorRecord): Promise<boolean> {
    if (this.#totp.get(record.userId)?.confirmedAt != null) return false;
    this.#totp.set(record.userId, { ...record });
    return true;
  }

  async confirmTotp(userId: string, confirmedAt: number, step: number): Promise<boolean> {
    const record = this.#totp.get(userId);
    if (!record || record.confirmedAt !== null) return false;
    record.confirmedAt = confirmedAt;
    record.lastUsedStep = step;
    return true;
  }

  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const record = this.#totp.get(userId);
    if (!record || record.confirmedAt === null) return false;
    if (record.lastUsedStep !== null && record.lastUsedStep >= step) return false;
    record.lastUsedStep = step;
    return true;
  }

  async deleteTotp(userId: string): Promise<boolean> {
    return this.#totp.delete(userId);
  }

  async replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    createdAt: number,
  ): Promise<void> {
    this.#codes.set(
      userId,
      codeHashes.map((codeHash) => ({ userId, codeHash, createdAt, usedAt: null })),
    );
  }

  async useRecoveryCode(userId: string, codeHash: string, usedAt: number): Promise<boolean> {
    const code = this.#codes.get(userId)?.find((c) => c.codeHash === codeHash);
    if (!code || code.usedAt !== null) return false;
    code.usedAt = usedAt;
    return true;
  }

  async listRecoveryCodes(userId: string): Promise<RecoveryCodeRecord[]> {
    return (this.#codes.get(userId) ?? []).map((code) => ({ ...code }));
  }

  async deleteRecoveryCodes(userId: string): Promise<number> {
    const count = this.#codes.get(userId)?.length ?? 0;
    this.#codes.delete(userId);
    return count;
  }

  async findMfaAttempts(userId: string): Promise<MfaAttemptRecord | undefined> {
    const record = this.#attempts.get(userId);
    return record && { ...record };
  }

  async swapMfaAttempts(
    userId: string,
    expectedFailures: number,
    next: Omit<MfaAttemptRecord, 'userId'>,
  ): Promise<boolean> {
    if ((this.#attempts.get(userId)?.failures ?? 0) !== expectedFailures) return false;
    this.#attempts.set(userId, { userId, ...next });
    return true;
  }
}
