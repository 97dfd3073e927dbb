/** The users aggregate: accounts, their password hashes, roles and lock state. */

export interface UserRecord {
  id: string;
  /** The address as the user typed it (trimmed, NFC, domain lower-cased): what is shown. */
  email: string;
  /**
   * The canonical form (case-folded, NFKC, confusable skeleton, punycode domain: core/email-key.ts):
   * unique across users, and what logins look up. Two addresses with one key are one account.
   */
  emailKey: string;
  /** argon2id PHC string. */
  passwordHash: string;
  roles: string[];
  /** When the account was locked, or null. A locked account cannot log in. */
  lockedAt: number | null;
  /** Why, as the operator wrote it; null when not locked. */
  lockReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserStore {
  /** Throws EmailTakenError when a user with the same emailKey exists. */
  createUser(user: UserRecord): Promise<void>;
  findUserByEmailKey(emailKey: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void>;
  setUserRoles(userId: string, roles: string[], updatedAt: number): Promise<void>;
  /** Locks (lockedAt set) or unlocks (null) an account. */
  setUserLock(
    userId: string,
    lockedAt: number | null,
    reason: string | null,
    updatedAt: number,
  ): Promise<void>;
  listUsers(): Promise<UserRecord[]>;
  /**
   * One page of users ordered by emailKey (unique), those whose key starts with `emailKeyPrefix`
   * when given; the next page starts after the last row's emailKey.
   */
  listUsersPage(query: {
    afterEmailKey?: string;
    limit: number;
    emailKeyPrefix?: string;
  }): Promise<UserRecord[]>;
  /**
   * Moves the account to another address (email change): as typed (shown) and its canonical key
   * (unique). Throws EmailTakenError when another account holds the key.
   */
  setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void>;
}

export class EmailTakenError extends Error {
  constructor() {
    super('email already registered');
    this.name = 'EmailTakenError';
  }
}
