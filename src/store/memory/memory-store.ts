import {
  type ApiKeyRecord,
  type AuditEvent,
  type AuthorizationCodeRecord,
  type ConsentTicketRecord,
  EmailTakenError,
  hasActiveAdmin,
  LastAdminError,
  type LoginEnding,
  type LoginsEnded,
  type OAuthClientRecord,
  type OAuthGrantRecord,
  type RefreshTokenRecord,
  type RevocationRecord,
  type SessionRecord,
  type SessionWithUser,
  type Store,
  type StoredSigningKey,
  type UserRecord,
} from '../ports.js';

/**
 * In-process engine: for tests and for trying Tessera without a disk. Records are copied
 * in and out so callers cannot mutate stored state by accident, as with a real database,
 * and the SQL engines' constraints are mirrored: duplicate ids and refresh tokens of a
 * missing session are refused, and deleting a session deletes its refresh tokens.
 */
export class MemoryStore implements Store {
  readonly engine = 'memory';
  readonly #users = new Map<string, UserRecord>();
  readonly #userIdByEmailKey = new Map<string, string>();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #refreshTokens = new Map<string, RefreshTokenRecord>();
  /** session id → ids of its refresh tokens, for the family operations and the cascade. */
  readonly #refreshTokenIdsBySession = new Map<string, Set<string>>();
  readonly #signingKeys = new Map<string, StoredSigningKey>();
  readonly #auditEvents = new Map<string, AuditEvent>();
  readonly #revocations: RevocationRecord[] = [];
  #revocationSeq = 0;
  readonly #oauthClients = new Map<string, OAuthClientRecord>();
  /** `<userId> <clientId>` → grant. */
  readonly #oauthGrants = new Map<string, OAuthGrantRecord>();
  readonly #authorizationCodes = new Map<string, AuthorizationCodeRecord>();
  readonly #consentTickets = new Map<string, ConsentTicketRecord>();
  readonly #apiKeys = new Map<string, ApiKeyRecord>();

  async ping(): Promise<void> {}
  async close(): Promise<void> {}

  async createUser(user: UserRecord): Promise<void> {
    if (this.#userIdByEmailKey.has(user.emailKey)) throw new EmailTakenError();
    this.#users.set(user.id, copyUser(user));
    this.#userIdByEmailKey.set(user.emailKey, user.id);
  }

  async findUserByEmailKey(emailKey: string): Promise<UserRecord | undefined> {
    const id = this.#userIdByEmailKey.get(emailKey);
    return id === undefined ? undefined : this.findUserById(id);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const user = this.#users.get(id);
    return user && copyUser(user);
  }

  async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    const session = this.#sessions.get(id);
    const user = session && this.#users.get(session.userId);
    return session && user && { session: copySession(session), user: copyUser(user) };
  }

  async setUserRoles(userId: string, roles: string[], updatedAt: number): Promise<void> {
    const user = this.#users.get(userId);
    if (user) Object.assign(user, { roles: [...roles], updatedAt });
  }

  async setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void> {
    const user = this.#users.get(userId);
    if (!user) return;
    const holder = this.#userIdByEmailKey.get(emailKey);
    if (holder !== undefined && holder !== userId) throw new EmailTakenError();
    this.#userIdByEmailKey.delete(user.emailKey);
    this.#userIdByEmailKey.set(emailKey, userId);
    Object.assign(user, { email, emailKey, updatedAt });
  }

  async setUserLock(
    userId: string,
    lockedAt: number | null,
    reason: string | null,
    updatedAt: number,
  ): Promise<void> {
    const user = this.#users.get(userId);
    if (user) Object.assign(user, { lockedAt, lockReason: reason, updatedAt });
  }

  async setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void> {
    const user = this.#users.get(userId);
    if (user) Object.assign(user, { passwordHash, updatedAt });
  }

  async listUsers(): Promise<UserRecord[]> {
    return [...this.#users.values()].sort((a, b) => a.createdAt - b.createdAt).map(copyUser);
  }

  async createSession(session: SessionRecord): Promise<void> {
    this.#sessions.set(session.id, copySession(session));
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const session = this.#sessions.get(id);
    return session && copySession(session);
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    const session = this.#sessions.get(id);
    if (session) session.lastSeenAt = lastSeenAt;
  }

  async setSessionSecret(id: string, secretHash: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (session) session.secretHash = secretHash;
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.#deleteWhere((s) => s.id === id) > 0;
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    return this.#deleteWhere((s) => s.userId === userId && s.id !== keepId);
  }

  async deleteAllSessions(): Promise<number> {
    return this.#deleteWhere(() => true);
  }

  async listUserSessions(userId: string): Promise<SessionRecord[]> {
    return (await this.listSessions()).filter((s) => s.userId === userId);
  }

  async listSessions(): Promise<SessionRecord[]> {
    return [...this.#sessions.values()].sort((a, b) => b.createdAt - a.createdAt).map(copySession);
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.#deleteWhere((s) => s.expiresAt <= now || s.lastSeenAt <= idleBefore);
  }

  /** Deletes matching sessions and, like the SQL foreign key's cascade, their refresh tokens. */
  #deleteWhere(predicate: (session: SessionRecord) => boolean): number {
    let deleted = 0;
    for (const [id, session] of this.#sessions) {
      if (predicate(session)) {
        this.#sessions.delete(id);
        for (const tokenId of this.#refreshTokenIdsBySession.get(id) ?? [])
          this.#refreshTokens.delete(tokenId);
        this.#refreshTokenIdsBySession.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    if (!this.#sessions.has(token.sessionId)) throw new Error(`no session ${token.sessionId}`);
    if (this.#refreshTokens.has(token.id)) throw new Error(`duplicate refresh token id ${token.id}`);
    this.#refreshTokens.set(token.id, { ...token });
    const family = this.#refreshTokenIdsBySession.get(token.sessionId);
    if (family) family.add(token.id);
    else this.#refreshTokenIdsBySession.set(token.sessionId, new Set([token.id]));
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const token = this.#refreshTokens.get(id);
    return token && { ...token };
  }

  async retireRefreshToken(id: string, retiredAt: number): Promise<boolean> {
    // Check and set with no await between: no other call can run in the middle.
    const token = this.#refreshTokens.get(id);
    if (!token || token.retiredAt !== null) return false;
    token.retiredAt = retiredAt;
    return true;
  }

  async rotateRefreshToken(retireId: string, next: RefreshTokenRecord): Promise<boolean> {
    // No await between check and set: atomic with respect to every other call.
    const token = this.#refreshTokens.get(retireId);
    if (!token || token.retiredAt !== null || !this.#sessions.has(next.sessionId)) return false;
    if (this.#refreshTokens.has(next.id)) throw new Error(`duplicate refresh token id ${next.id}`);
    for (const tokenId of this.#refreshTokenIdsBySession.get(next.sessionId) ?? []) {
      const sibling = this.#refreshTokens.get(tokenId);
      if (sibling && sibling.retiredAt === null) sibling.retiredAt = next.createdAt;
    }
    this.#refreshTokens.set(next.id, { ...next });
    this.#refreshTokenIdsBySession.get(next.sessionId)?.add(next.id);
    return true;
  }

  async retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void> {
    for (const tokenId of this.#refreshTokenIdsBySession.get(sessionId) ?? []) {
      const token = this.#refreshTokens.get(tokenId);
      if (token && token.id !== keepId && token.retiredAt === null) token.retiredAt = retiredAt;
    }
  }

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    return [...this.#signingKeys.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.kid, b.kid))
      .map((k) => ({ ...k }));
  }

  async createSigningKey(key: StoredSigningKey): Promise<void> {
    if (this.#signingKeys.has(key.kid)) throw new Error(`duplicate signing key ${key.kid}`);
    this.#signingKeys.set(key.kid, { ...key });
  }

  async updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void> {
    const key = this.#signingKeys.get(kid);
    if (key) Object.assign(key, { status, retiredAt });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#signingKeys.delete(kid);
  }

  async appendAuditEvent(event: AuditEvent): Promise<void> {
    if (this.#auditEvents.has(event.id)) throw new Error(`duplicate audit event id ${event.id}`);
    this.#auditEvents.set(event.id, { ...event });
  }

  async listAuditEvents(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]> {
    return [...this.#auditEvents.values()]
      .filter((e) => filter.userId === undefined || e.userId === filter.userId)
      .filter((e) => filter.type === undefined || e.type === filter.type)
      .sort((a, b) => b.at - a.at || compareIds(b.id, a.id))
      .slice(0, Math.max(0, filter.limit))
      .map((e) => ({ ...e }));
  }

  async deleteAuditEventsBefore(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, event] of this.#auditEvents) {
      if (event.at < before) {
        this.#auditEvents.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  async appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord> {
    const record = { ...revocation, seq: ++this.#revocationSeq };
    this.#revocations.push(record);
    return { ...record };
  }

  async listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]> {
    return this.#revocations.filter((r) => r.seq > afterSeq && r.expiresAt > now).map((r) => ({ ...r }));
  }

  async deleteExpiredRevocations(now: number): Promise<number> {
    const before = this.#revocations.length;
    const live = this.#revocations.filter((r) => r.expiresAt > now);
    this.#revocations.splice(0, before, ...live);
    return before - live.length;
  }

  async createOAuthClient(client: OAuthClientRecord): Promise<void> {
    if (this.#oauthClients.has(client.id)) throw new Error(`duplicate oauth client id ${client.id}`);
    this.#oauthClients.set(client.id, copyClient(client));
  }

  async findOAuthClient(id: string): Promise<OAuthClientRecord | undefined> {
    const client = this.#oauthClients.get(id);
    return client && copyClient(client);
  }

  async listOAuthClients(): Promise<OAuthClientRecord[]> {
    return [...this.#oauthClients.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id))
      .map(copyClient);
  }

  /** Like the SQL foreign keys' cascade: the client's grants and codes go with it. */
  async deleteOAuthClient(id: string): Promise<boolean> {
    if (!this.#oauthClients.delete(id)) return false;
    for (const [key, grant] of this.#oauthGrants) if (grant.clientId === id) this.#oauthGrants.delete(key);
    for (const [key, code] of this.#authorizationCodes) {
      if (code.clientId === id) this.#authorizationCodes.delete(key);
    }
    return true;
  }

  async saveOAuthGrant(grant: OAuthGrantRecord): Promise<void> {
    if (!this.#users.has(grant.userId)) throw new Error(`no user ${grant.userId}`);
    if (!this.#oauthClients.has(grant.clientId)) throw new Error(`no oauth client ${grant.clientId}`);
    const key = grantKey(grant.userId, grant.clientId);
    const createdAt = this.#oauthGrants.get(key)?.createdAt ?? grant.createdAt;
    this.#oauthGrants.set(key, { ...grant, scopes: [...grant.scopes], createdAt });
  }

  async findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined> {
    const grant = this.#oauthGrants.get(grantKey(userId, clientId));
    return grant && { ...grant, scopes: [...grant.scopes] };
  }

  async listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]> {
    return [...this.#oauthGrants.values()]
      .filter((g) => g.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.clientId, b.clientId))
      .map((g) => ({ ...g, scopes: [...g.scopes] }));
  }

  async touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void> {
    const grant = this.#oauthGrants.get(grantKey(userId, clientId));
    if (grant) grant.lastUsedAt = lastUsedAt;
  }

  async deleteOAuthGrant(userId: string, clientId: string): Promise<boolean> {
    return this.#oauthGrants.delete(grantKey(userId, clientId));
  }

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    if (this.#authorizationCodes.has(code.id)) throw new Error(`duplicate authorization code id ${code.id}`);
    if (!this.#oauthClients.has(code.clientId)) throw new Error(`no oauth client ${code.clientId}`);
    this.#authorizationCodes.set(code.id, { ...code, scopes: [...code.scopes] });
  }

  async findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined> {
    const code = this.#authorizationCodes.get(id);
    return code && { ...code, scopes: [...code.scopes] };
  }

  async useAuthorizationCode(id: string, usedAt: number): Promise<boolean> {
    // Check and set with no await between, as retireRefreshToken.
    const code = this.#authorizationCodes.get(id);
    if (!code || code.usedAt !== null) return false;
    code.usedAt = usedAt;
    return true;
  }

  async redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
  ): Promise<boolean> {
    // No await between check and writes: atomic, as the SQL transaction.
    const code = this.#authorizationCodes.get(id);
    if (!code || code.usedAt !== null) return false;
    if (this.#refreshTokens.has(refreshToken.id))
      throw new Error(`duplicate refresh token id ${refreshToken.id}`);
    code.usedAt = usedAt;
    this.#sessions.set(login.id, copySession(login));
    this.#refreshTokens.set(refreshToken.id, { ...refreshToken });
    this.#refreshTokenIdsBySession.set(login.id, new Set([refreshToken.id]));
    return true;
  }

  async createConsentTicket(ticket: ConsentTicketRecord): Promise<void> {
    if (this.#consentTickets.has(ticket.id)) throw new Error(`duplicate consent ticket id ${ticket.id}`);
    this.#consentTickets.set(ticket.id, { ...ticket, scopes: [...ticket.scopes] });
  }

  async takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined> {
    const ticket = this.#consentTickets.get(id);
    this.#consentTickets.delete(id);
    return ticket;
  }

  async deleteExpiredConsentTickets(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, ticket] of this.#consentTickets) {
      if (ticket.expiresAt < before) {
        this.#consentTickets.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  async deleteExpiredAuthorizationCodes(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, code] of this.#authorizationCodes) {
      if (code.expiresAt < before) {
        this.#authorizationCodes.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  async listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]> {
    return (await this.listSessions()).filter(
      (s) =>
        s.mode === 'oauth' &&
        s.oauth?.clientId === filter.clientId &&
        (filter.userId === undefined || s.userId === filter.userId),
    );
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    if (this.#apiKeys.has(key.id)) throw new Error(`duplicate api key id ${key.id}`);
    if (!this.#users.has(key.userId)) throw new Error(`no user ${key.userId}`);
    this.#apiKeys.set(key.id, { ...key, scopes: [...key.scopes] });
  }

  async findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const key = this.#apiKeys.get(id);
    return key && { ...key, scopes: [...key.scopes] };
  }

  async listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]> {
    return [...this.#apiKeys.values()]
      .filter((k) => filter.userId === undefined || k.userId === filter.userId)
      .sort((a, b) => b.createdAt - a.createdAt || compareIds(b.id, a.id))
      .map((k) => ({ ...k, scopes: [...k.scopes] }));
  }

  async revokeApiKey(id: string, revokedAt: number): Promise<boolean> {
    const key = this.#apiKeys.get(id);
    if (!key || key.revokedAt !== null) return false;
    key.revokedAt = revokedAt;
    return true;
  }

  async touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    const key = this.#apiKeys.get(id);
    if (key) key.lastUsedAt = lastUsedAt;
  }

  /** All or nothing by construction: every check runs before the first change, with no await between. */
  async endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    const { target, account } = ending;
    const userId = 'userId' in target ? target.userId : undefined;
    const user = userId === undefined ? undefined : this.#users.get(userId);
    const changed = user && account && { ...user, ...changedFields(account) };
    if (ending.keepAnAdmin && changed) {
      const after = [...this.#users.values()].map((u) => (u.id === changed.id ? changed : u));
      if (!hasActiveAdmin(after)) throw new LastAdminError();
    }
    if (user && changed) Object.assign(user, changed);
    const ends = (s: SessionRecord) =>
      'sessionId' in target
        ? s.id === target.sessionId
        : 'userId' in target
          ? s.userId === target.userId && s.id !== target.keepSessionId
          : true;
    const sessions = ending.endSessions ? this.#deleteWhere(ends) : 0;
    let apiKeys = 0;
    if (ending.revokeApiKeysAt !== undefined && !('sessionId' in target)) {
      for (const key of this.#apiKeys.values()) {
        if (key.revokedAt !== null || (userId !== undefined && key.userId !== userId)) continue;
        key.revokedAt = ending.revokeApiKeysAt;
        apiKeys++;
      }
    }
    const append = !('sessionId' in target) || sessions > 0;
    const revocation =
      append && ending.revocation ? await this.appendRevocation(ending.revocation) : undefined;
    return { sessions, apiKeys, ...(revocation && { revocation }) };
  }
}

/** The fields of a user record an ending's account change sets. */
const changedFields = (account: NonNullable<LoginEnding['account']>): Partial<UserRecord> => ({
  ...(account.lock && { lockedAt: account.lock.lockedAt, lockReason: account.lock.reason }),
  ...(account.roles && { roles: [...account.roles] }),
  ...(account.passwordHash !== undefined && { passwordHash: account.passwordHash }),
  updatedAt: account.updatedAt,
});

const copyUser = (user: UserRecord): UserRecord => ({ ...user, roles: [...user.roles] });

const copySession = (session: SessionRecord): SessionRecord =>
  session.oauth
    ? { ...session, oauth: { ...session.oauth, scopes: [...session.oauth.scopes] } }
    : { ...session };

const copyClient = (client: OAuthClientRecord): OAuthClientRecord => ({
  ...client,
  redirectUris: [...client.redirectUris],
  scopes: [...client.scopes],
  grantTypes: [...client.grantTypes],
});

const grantKey = (userId: string, clientId: string) => `${userId} ${clientId}`;

/** Code-unit order, as SQLite's default BINARY collation sorts text. */
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
