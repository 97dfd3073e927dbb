/**
 * Storage ports: the only way core touches persistent state. Every engine (memory, SQLite,
 * later PostgreSQL and Redis) implements these and passes the same contract tests
 * (test/contract/). Times are integer milliseconds since the epoch; secrets appear only as
 * SHA-256 hashes.
 */

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
}

export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

export interface OAuthDelegation {
  clientId: string;
  scopes: string[];
  audience: string;
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
   * Moves the account to another address (email change): as typed (shown) and its canonical key
   * (unique). Throws EmailTakenError when another account holds the key.
   */
  setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void>;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * The per-request read of session mode: the session and its owner together (one query on
   * SQL engines). undefined when either is missing.
   */
  findSessionWithUser(id: string): Promise<SessionWithUser | undefined>;
  /** Sliding renewal: records activity. */
  touchSession(id: string, lastSeenAt: number): Promise<void>;
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
   * Deletes sessions past their absolute expiry (`expiresAt <= now`) or idle since
   * `idleBefore` (`lastSeenAt <= idleBefore`); returns how many were deleted.
   */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;
}

/** One refresh token of a family (a jwt-mode SessionRecord). */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  /** SHA-256 (hex) of the secret part. */
  secretHash: string;
  createdAt: number;
  /** When it was exchanged (or superseded); null while it is the live token. */
  retiredAt: number | null;
}

export interface RefreshTokenStore {
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Atomically retires a live token: true when this call retired it, false when it was
   * already retired (or missing). Two racing refreshes can never both see `true`.
   */
  retireRefreshToken(id: string, retiredAt: number): Promise<boolean>;
  /**
   * One refresh rotation, all or nothing: if `retireId` is live, retire it and every other live
   * token of its family (at `next.createdAt`) and store `next`; true. Otherwise change nothing;
   * false. A crash midway leaves the old token valid or the new one, never neither or both.
   */
  rotateRefreshToken(retireId: string, next: RefreshTokenRecord): Promise<boolean>;
  /** Retires every live token of the family except `keepId`. */
  retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void>;
}

/** A JWS signing key as stored: public parts in the clear, the private part sealed under the KEK. */
export interface StoredSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256' | 'RS256' | 'HS256';
  status: 'next' | 'active' | 'retired';
  createdAt: number;
  /** When it stopped signing; it verifies until every token it signed has expired. */
  retiredAt: number | null;
  /** JSON of the public JWK; null for HS256. */
  publicJwk: string | null;
  privateKeyEncrypted: string;
}

export interface SigningKeyStore {
  listSigningKeys(): Promise<StoredSigningKey[]>;
  createSigningKey(key: StoredSigningKey): Promise<void>;
  updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void>;
  /** Removes a key (compromised, or past its last token); true when one was removed. */
  deleteSigningKey(kid: string): Promise<boolean>;
}

/** An auth event; never holds a secret. */
export interface AuditEvent {
  id: string;
  at: number;
  type: string;
  /** Who did it: the user themselves, an operator, or `system`. */
  actorId: string | null;
  /** Whom it concerns. */
  userId: string | null;
  sessionId: string | null;
  ip: string;
  userAgent: string;
  /** Small JSON object with event-specific facts (e.g. a key id), never a secret. */
  detail: string;
}

export interface AuditStore {
  appendAuditEvent(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAuditEvents(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]>;
  /** Deletes events older than `before`; returns how many. */
  deleteAuditEventsBefore(before: number): Promise<number>;
}

/**
 * A revocation hybrid nodes must know about: one login (`session`, subject = sid), every
 * token of a user issued before `at` (`user`, subject = user id), or every token issued before
 * `at` (`all`, subject = '*'). Kept until `expiresAt`, when no token it could affect is valid.
 */
export interface RevocationRecord {
  /** Assigned by the store: a total order across nodes. */
  seq: number;
  kind: 'session' | 'user' | 'all';
  subject: string;
  at: number;
  expiresAt: number;
}

export interface RevocationStore {
  /** Appends and returns the record with its sequence number. */
  appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord>;
  /** Records with seq > afterSeq and still in force at `now`, in seq order. */
  listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]>;
  deleteExpiredRevocations(now: number): Promise<number>;
}

export interface Store
  extends UserStore,
    SessionStore,
    RefreshTokenStore,
    SigningKeyStore,
    AuditStore,
    RevocationStore,
    OAuthStore,
    ApiKeyStore,
    LoginEndingStore {
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

/** A third-party application registered to ask users for delegated access (OAuth 2.1). */
export interface OAuthClientRecord {
  id: string;
  name: string;
  /** confidential: authenticates with its secret; public (SPA, native app): PKCE only. */
  type: 'confidential' | 'public';
  /** SHA-256 (hex) of the client secret; null for public clients. */
  secretHash: string | null;
  /** Exact strings: a redirect URI is accepted only if it equals one of these. */
  redirectUris: string[];
  /** The scopes it may ask for (a subset of the configured ones). */
  scopes: string[];
  /** authorization_code (with refresh_token) and/or client_credentials. */
  grantTypes: Array<'authorization_code' | 'client_credentials'>;
  /** The resource its access tokens are for: their `aud`. */
  audience: string;
  createdAt: number;
}

/** A user's standing consent: this client may have these scopes without asking again. */
export interface OAuthGrantRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number;
}

/** A single-use authorization code (`<id>.<secret>`), bound to client, redirect URI and PKCE challenge. */
export interface AuthorizationCodeRecord {
  id: string;
  secretHash: string;
  clientId: string;
  userId: string;
  /** The id the login (refresh-token family) exchanging this code gets: a reused code revokes it. */
  sessionId: string;
  redirectUri: string;
  /** BASE64URL(SHA-256(code_verifier)) (S256, the only method). */
  codeChallenge: string;
  scopes: string[];
  audience: string;
  createdAt: number;
  expiresAt: number;
  /** When it was exchanged; null while unused. */
  usedAt: number | null;
}

/**
 * The consent page as shown (`<id>.<secret>` in its form): approving or denying must present
 * it, once, from the same login, for exactly this request.
 */
export interface ConsentTicketRecord {
  id: string;
  secretHash: string;
  /** The login that was shown the page. */
  sessionId: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string;
  createdAt: number;
  expiresAt: number;
}

export interface OAuthStore {
  createOAuthClient(client: OAuthClientRecord): Promise<void>;
  findOAuthClient(id: string): Promise<OAuthClientRecord | undefined>;
  /** Oldest first. */
  listOAuthClients(): Promise<OAuthClientRecord[]>;
  /** Deletes the client with its grants and codes; true when one was deleted. Its logins are the caller's to end. */
  deleteOAuthClient(id: string): Promise<boolean>;
  /** Creates the grant, or replaces its scopes and lastUsedAt (createdAt is kept). */
  saveOAuthGrant(grant: OAuthGrantRecord): Promise<void>;
  findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined>;
  /** Oldest first. */
  listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]>;
  touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void>;
  deleteOAuthGrant(userId: string, clientId: string): Promise<boolean>;
  createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>;
  findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined>;
  /** Atomically marks an unused code used: true for exactly one of any number of racing calls. */
  useAuthorizationCode(id: string, usedAt: number): Promise<boolean>;
  /**
   * Redeems an unused code in one transaction: marks it used AND stores the login it produces
   * with that login's first refresh token; false, storing nothing, when it was already used.
   * So whoever sees the code used also sees what it produced, and a replay can revoke it.
   */
  redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
  ): Promise<boolean>;
  /** Deletes codes with `expiresAt < before`; returns how many. */
  deleteExpiredAuthorizationCodes(before: number): Promise<number>;
  createConsentTicket(ticket: ConsentTicketRecord): Promise<void>;
  /** Deletes the ticket and returns it: of any number of racing calls, exactly one gets it. */
  takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined>;
  /** Deletes tickets with `expiresAt < before`; returns how many. */
  deleteExpiredConsentTickets(before: number): Promise<number>;
  /** The live OAuth logins (mode `oauth`) of a client, optionally of one user only; newest first. */
  listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]>;
}

/** A user's API key (`tsr_<id>.<secret>`) for scripts and services the user owns. */
export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  /** SHA-256 (hex) of the secret part. */
  secretHash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  /** When it was revoked; null while it works. */
  revokedAt: number | null;
}

export interface ApiKeyStore {
  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first; every user's without `userId`. */
  listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]>;
  /** True when this call revoked a key that was not revoked yet. */
  revokeApiKey(id: string, revokedAt: number): Promise<boolean>;
  touchApiKey(id: string, lastUsedAt: number): Promise<void>;
}

/**
 * Ending logins, all or nothing (docs/SECURITY.md, "What ends when a login ends"): the account
 * change that causes it, the deleted logins, the revoked API keys and the hybrid revocation
 * record are one transaction. A success means every part is recorded; an error means none is,
 * so the HTTP answer (503 or success) tells the truth.
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
