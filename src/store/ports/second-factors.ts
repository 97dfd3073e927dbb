/**
 * A user's second factors (issue 18): the authenticator app (TOTP), the recovery codes and the
 * per-account attempt counter that guards both. One aggregate: they are enrolled, used, reset
 * and deleted together, and every row belongs to one user (deleting the user deletes them).
 */

/** The authenticator app (RFC 6238). Pending until a first valid code confirms it. */
export interface TotpFactorRecord {
  userId: string;
  /** The base32 secret sealed with the key-encryption key (AES-256-GCM, like signing keys). */
  secretSealed: string;
  createdAt: number;
  /** null: enrolment started, not confirmed; the factor does not count yet. */
  confirmedAt: number | null;
  /** The last time step (unix seconds / 30) a code was accepted for: a code works at most once. */
  lastUsedStep: number | null;
}

/** One recovery code, stored only as its SHA-256; single use. */
export interface RecoveryCodeRecord {
  userId: string;
  codeHash: string;
  createdAt: number;
  usedAt: number | null;
}

/** The account's failed second-factor attempts, for the backoff (core/mfa/attempts.ts). */
export interface MfaAttemptRecord {
  userId: string;
  /** Counted attempts since the last success (an attempt is counted before it is checked). */
  failures: number;
  /** No attempt is allowed before this instant (ms). */
  blockedUntil: number;
}

export interface SecondFactorStore {
  findTotp(userId: string): Promise<TotpFactorRecord | undefined>;
  /** Starts (or restarts) an enrolment: replaces a pending factor; refused (false) over a confirmed one. */
  savePendingTotp(record: TotpFactorRecord): Promise<boolean>;
  /** Confirms the pending factor, recording the step of the confirming code; false if none pending. */
  confirmTotp(userId: string, confirmedAt: number, step: number): Promise<boolean>;
  /**
   * Records that a code of `step` was accepted: a compare-and-set that succeeds only when no
   * code of this or a later step was accepted before, so of two racing uses of one code
   * exactly one wins (replay refused on every engine).
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<boolean>;
  /** Replaces every recovery code of the user (old ones die) in one write. */
  replaceRecoveryCodes(userId: string, codeHashes: readonly string[], createdAt: number): Promise<void>;
  /** Marks an unused code used; true for exactly one of racing uses. */
  useRecoveryCode(userId: string, codeHash: string, usedAt: number): Promise<boolean>;
  listRecoveryCodes(userId: string): Promise<RecoveryCodeRecord[]>;
  deleteRecoveryCodes(userId: string): Promise<number>;
  findMfaAttempts(userId: string): Promise<MfaAttemptRecord | undefined>;
  /**
   * Sets the counter if it still holds `expectedFailures` (0 also matches no row): a
   * compare-and-set, so racing attempts cannot share one allowance.
   */
  swapMfaAttempts(
    userId: string,
    expectedFailures: number,
    next: Omit<MfaAttemptRecord, 'userId'>,
  ): Promise<boolean>;
}
