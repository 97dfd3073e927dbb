import type { RevocationRecord } from './revocations.js';
import type { UserRecord } from './users.js';

/**
 * Ending logins, all or nothing (docs/SECURITY.md, "What ends when a login ends"): the account
 * change that causes it, the deleted logins, the revoked API keys and the hybrid revocation
 * record are one transaction across the users, sessions, API keys and revocations aggregates.
 * A success means every part is recorded; an error means none is, so the HTTP answer (503 or
 * success) tells the truth.
 */
export interface LoginEnding {
  /** One login; every login of a user except `keepSessionId`; or everyone's. */
  target: { sessionId: string } | { userId: string; keepSessionId?: string } | { everyone: true };
  /** The change to the (user) target's account that ends its logins: lock, roles, password. */
  account?: {
    lock?: { lockedAt: number | null; reason: string | null };
    roles?: string[];
    passwordHash?: string;
    updatedAt: number;
  };
  /** Delete the target's logins; false for a role change (logins go on under new tokens). */
  endSessions: boolean;
  /** Revoke the target's API keys at this time: a key belongs to its user, not to a login. */
  revokeApiKeysAt?: number;
  /** Refuse with LastAdminError when afterwards no unlocked user has the `admin` role. */
  keepAnAdmin?: boolean;
  /**
   * hybrid: the revocation-log record, appended in the same transaction (for a single login
   * only when that login existed). Publishing it on the bus is the caller's, after commit.
   */
  revocation?: Omit<RevocationRecord, 'seq'>;
}

export interface LoginsEnded {
  sessions: number;
  apiKeys: number;
  revocation?: RevocationRecord;
}

/** The one operation that spans aggregates to end logins (core/sessions.ts is its only caller). */
export interface LoginEndingStore {
  endLogins(ending: LoginEnding): Promise<LoginsEnded>;
}

/** The change would leave no unlocked account with the admin role (nothing was changed). */
export class LastAdminError extends Error {
  constructor() {
    super('the last active admin');
    this.name = 'LastAdminError';
  }
}

/** True when the users include an unlocked one with the admin role. */
export const hasActiveAdmin = (users: Iterable<Pick<UserRecord, 'roles' | 'lockedAt'>>): boolean => {
  for (const user of users) if (user.lockedAt === null && user.roles.includes('admin')) return true;
  return false;
};
