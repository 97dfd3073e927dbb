import type { RevocationRecord } from './revocations.js';
import type { EndedLogin, SecurityEventRecord } from './security-events.js';
import type { UserRecord } from './users.js';

/**
 * Ending logins, all or nothing (docs/SECURITY.md, "What ends when a login ends"): the account
 * change that causes it, the deleted logins, the revoked API keys and the hybrid revocation
 * record are one transaction across the users, sessions, API keys and revocations aggregates.
 * A success means every part is recorded; an error means none is, so the HTTP answer (503 or
 * success) tells the truth.
 */
export interface LoginEnding {
  /**
   * One login; every login of a user except `keepSessionId`; everyone's; or (the sweep) up to
   * `limit` logins past their absolute expiry at `now` or idle since `idleBefore`.
   */
  target:
    | { sessionId: string }
    | { userId: string; keepSessionId?: string }
    | { everyone: true }
    | { expired: { now: number; idleBefore: number; limit: number } };
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
  /**
   * The security event (issue 21) recorded in the same transaction when at least one login
   * ended: `data` gains `logins` (each ended login's id, user and OAuth client). Without it, or
   * when nothing ended, no event is written.
   */
  event?: { id: string; type: string; at: number; userId: string | null; data: Record<string, unknown> };
}

export interface LoginsEnded {
  sessions: number;
  /** The logins deleted (with `event`, the ones its data names). */
  logins: EndedLogin[];
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

/** The event row an ending writes, or undefined when it ended no login or asked for none. */
export function endingEvent(
  ending: LoginEnding,
  logins: readonly EndedLogin[],
): SecurityEventRecord | undefined {
  const { event } = ending;
  if (!event || logins.length === 0) return undefined;
  // One login, or one user's: the event concerns that user even when the caller did not know it.
  const users = new Set(logins.map((login) => login.userId));
  const userId = event.userId ?? (users.size === 1 ? (logins[0]?.userId ?? null) : null);
  return {
    id: event.id,
    type: event.type,
    at: event.at,
    userId,
    data: JSON.stringify({ ...event.data, logins }),
  };
}

/** True when the users include an unlocked one with the admin role. */
export const hasActiveAdmin = (users: Iterable<Pick<UserRecord, 'roles' | 'lockedAt'>>): boolean => {
  for (const user of users) if (user.lockedAt === null && user.roles.includes('admin')) return true;
  return false;
};
