/**
 * Storage ports: the only way core touches persistent state. Every engine (memory, SQLite,
 * later PostgreSQL and Redis) implements these and passes the same contract tests
 * (test/contract/). Times are integer milliseconds since the epoch; secrets appear only as
 * SHA-256 hashes.
 */

export interface UserRecord {
  id: string;
  email: string;
  /** argon2id PHC string. */
  passwordHash: string;
  roles: string[];
  /** When the account was locked, or null. A locked account cannot log in. */
  lockedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRecord {
  id: string;
  userId: string;
  /** SHA-256 (hex) of the token's secret part. */
  secretHash: string;
  createdAt: number;
  /** Updated by sliding renewal, at most once a minute. */
  lastSeenAt: number;
  /** Absolute expiry: createdAt + absolute timeout, never extended. */
  expiresAt: number;
  ip: string;
  userAgent: string;
}

export interface UserStore {
  /** Throws EmailTakenError when the email is already registered. */
  createUser(user: UserRecord): Promise<void>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void>;
  listUsers(): Promise<UserRecord[]>;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** Sliding renewal: records activity. */
  touchSession(id: string, lastSeenAt: number): Promise<void>;
  /** Replaces the secret of a live session (token rotation); the old token stops working. */
  setSessionSecret(id: string, secretHash: string): Promise<void>;
  /** True when a session was deleted. */
  deleteSession(id: string): Promise<boolean>;
  /** Deletes every session of the user except `keepId`; returns how many were deleted. */
  deleteUserSessions(userId: string, keepId?: string): Promise<number>;
  /** Newest first. */
  listUserSessions(userId: string): Promise<SessionRecord[]>;
  /** Every session, newest first, for operators. */
  listSessions(): Promise<SessionRecord[]>;
  /**
   * Deletes sessions past their absolute expiry (`expiresAt <= now`) or idle since
   * `idleBefore` (`lastSeenAt <= idleBefore`); returns how many were deleted.
   */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;
}

export interface Store extends UserStore, SessionStore {
  readonly engine: string;
  /** Resolves when the store answers; used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class EmailTakenError extends Error {
  constructor() {
    super('email already registered');
    this.name = 'EmailTakenError';
  }
}
