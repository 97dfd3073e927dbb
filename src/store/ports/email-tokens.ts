/**
 * Single-use tokens mailed in links (verify an address, reset a password, confirm or undo an
 * email change, "this wasn't me"). Shape `<id>.<secret>` like every opaque credential
 * (core/tokens.ts): only the SHA-256 of the secret is stored.
 */
export type EmailTokenPurpose = 'verify' | 'reset' | 'change' | 'undo' | 'not_me';

export interface EmailTokenRecord {
  id: string;
  userId: string;
  purpose: EmailTokenPurpose;
  secretHash: string;
  /** The address the link was sent to (verify, change: the address it proves; undo: the one to restore). */
  email: string;
  createdAt: number;
  expiresAt: number;
  /** When it was used or superseded; null while it can be used. */
  usedAt: number | null;
}

export interface EmailTokenStore {
  createEmailToken(token: EmailTokenRecord): Promise<void>;
  findEmailToken(id: string): Promise<EmailTokenRecord | undefined>;
  /** Atomically marks an unused token used: true for exactly one of any number of racing calls. */
  useEmailToken(id: string, usedAt: number): Promise<boolean>;
  /** Ends every unused token of the user for this purpose (a newer one replaces them); returns how many. */
  retireEmailTokens(userId: string, purpose: EmailTokenPurpose, usedAt: number): Promise<number>;
  /** Deletes tokens that expired before `before`; returns how many. */
  deleteExpiredEmailTokens(before: number): Promise<number>;
}
