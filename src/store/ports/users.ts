/** The users aggregate: accounts, their password hashes, roles and lock state. */

export interface UserRecord {
  id: string;
  email: string;
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
  /** Throws EmailTakenError when the email is already registered. */
  createUser(user: UserRecord): Promise<void>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
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
}

export class EmailTakenError extends Error {
  constructor() {
    super('email already registered');
    this.name = 'EmailTakenError';
  }
}
