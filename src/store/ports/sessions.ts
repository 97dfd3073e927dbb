import type { UserRecord } from './users.js';

/**
 * One login. In `session` mode its credential is the session token (`secretHash`); in `jwt`
 * and `hybrid` modes it is the refresh-token family, and `id` is the access tokens' `sid`.
 * Either way the same record drives idle and absolute expiry, the device list and revocation.
 */
export interface SessionRecord {
  id: string;
  userId: string;
  /**
   * The mode the login was made in; a credential of one mode never opens another's. `oauth`:
   * a refresh-token family a user delegated to a third-party application (see `oauth`).
   */
  mode: 'session' | 'jwt' | 'hybrid' | 'oauth';
  /** SHA-256 (hex) of the session token's secret part; empty for refresh-token families. */
  secretHash: string;
  createdAt: number;
  /** Updated by sliding renewal, at most once a minute. */
  lastSeenAt: number;
  /** Absolute expiry: createdAt + absolute timeout, never extended. */
  expiresAt: number;
  ip: string;
  userAgent: string;
  /** mode `oauth` only: the application, the scopes the user granted it, and the resource (`aud`). */
  oauth?: OAuthDelegation;
  /**
   * Migration 0011: when the user last proved who they are on this login (ms), with which
   * methods (RFC 8176 `amr`) and to what level (`acr`). A step-up (Sessions.recordProof)
   * refreshes them; an OAuth delegation inherits those of the browser login that consented.
   */
  authTime: number;
  amr: string[];
  acr: string;
}

export interface OAuthDelegation {
  clientId: string;
  scopes: string[];
  audience: string;
}

/** Where a page of sessions starts: after this (createdAt, id) in newest-first order. */
export interface SessionPageKey {
  createdAt: number;
  id: string;
}

/** A session with its owner's address (null when the user row is gone), for operators' lists. */
export interface SessionWithEmail {
  session: SessionRecord;
  email: string | null;
}

export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

/**
 * The sessions aggregate: every login of every mode. Deleting a session deletes its
 * refresh-token family (SQL: foreign key, on delete cascade; memory: the same by hand).
 */
/**
 * A value, or a promise of it: the per-request reads of engines that answer synchronously
 * (memory, SQLite's prepared statements) return the value itself, so the hot path allocates no
 * promise and waits for no microtask turn. Callers that simply `await` it need not care.
 */
export type MaybePromise<T> = T | Promise<T>;

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * The per-request read of session mode: the session and its owner together (one query on
   * SQL engines). undefined when either is missing.
   */
  findSessionWithUser(id: string): MaybePromise<SessionWithUser | undefined>;
  /** Sliding renewal: records activity. */
  touchSession(id: string, lastSeenAt: number): Promise<void>;
  /** A fresh proof on this login (step-up): replaces auth_time, amr and acr. False: no such login. */
  setSessionAuthContext(
    id: string,
    context: { authTime: number; amr: string[]; acr: string },
  ): Promise<boolean>;
  /** Replaces the secret of a live session (token rotation); the old token stops working. */
  setSessionSecret(id: string, secretHash: string): Promise<void>;
  /** True when a session was deleted. */
  deleteSession(id: string): Promise<boolean>;
  /** Deletes every session of the user except `keepId`; returns how many were deleted. */
  deleteUserSessions(userId: string, keepId?: string): Promise<number>;
  /** Deletes every session of every user (log everyone out); returns how many. */
  deleteAllSessions(): Promise<number>;
  /** Newest first. */
  listUserSessions(userId: string): Promise<SessionRecord[]>;
  /** Every session, newest first, for operators. */
  listSessions(): Promise<SessionRecord[]>;
  /**
   * One page of sessions, newest first by (createdAt, id), optionally of one user only, with
   * each owner's email (one indexed query on SQL engines). Expired-but-unswept sessions are
   * included: callers filter. Pass the last row's key as `after` for the next page.
   */
  listSessionsPage(query: {
    after?: SessionPageKey;
    limit: number;
    userId?: string;
  }): Promise<SessionWithEmail[]>;
  /** The live OAuth logins (mode `oauth`) of a client, optionally of one user only; newest first. */
  listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]>;
  /**
   * Deletes sessions past their absolute expiry (`expiresAt <= now`) or idle since
   * `idleBefore` (`lastSeenAt <= idleBefore`); returns how many were deleted.
   */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;
}
