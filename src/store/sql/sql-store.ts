import { type Kysely, type Selectable, sql } from 'kysely';
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
import type { Database } from './schema.js';

/** pg_advisory_xact_lock key of changes that must leave an admin (any constant unique to Tessera). */
const ADMIN_CHANGE_LOCK = 0x7e55e4a;

type UserRow = Selectable<Database['users']>;
type SessionRow = Selectable<Database['sessions']>;
type RefreshTokenRow = Selectable<Database['refresh_tokens']>;
type SigningKeyRow = Selectable<Database['signing_keys']>;
type AuditEventRow = Selectable<Database['audit_events']>;
type OAuthClientRow = Selectable<Database['oauth_clients']>;
type OAuthGrantRow = Selectable<Database['oauth_grants']>;
type AuthorizationCodeRow = Selectable<Database['oauth_codes']>;
type ApiKeyRow = Selectable<Database['api_keys']>;

/**
 * The store ports over kysely: one implementation for every SQL engine. Engine-specific
 * concerns (opening the connection, pragmas, error codes) stay in the engine's own file.
 */
export class SqlStore implements Store {
  constructor(
    readonly engine: string,
    readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (error: unknown) => boolean,
    /** The migrations opening this store applied (`tessera migrate` prints them). */
    readonly appliedMigrations: readonly string[] = [],
  ) {}

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.db.insertInto('users').values(toUserRow(user)).execute();
    } catch (error) {
      if (this.isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  async findUserByEmailKey(emailKey: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email_key', '=', emailKey)
      .executeTakeFirst();
    return row && fromUserRow(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromUserRow(row);
  }

  async setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: updatedAt })
      .where('id', '=', userId)
      .execute();
  }

  async setUserRoles(userId: string, roles: string[], updatedAt: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ roles: JSON.stringify(roles), updated_at: updatedAt })
      .where('id', '=', userId)
      .execute();
  }

  async setUserLock(
    userId: string,
    lockedAt: number | null,
    reason: string | null,
    updatedAt: number,
  ): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ locked_at: lockedAt, lock_reason: reason, updated_at: updatedAt })
      .where('id', '=', userId)
      .execute();
  }

  async setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void> {
    try {
      await this.db
        .updateTable('users')
        .set({ email, email_key: emailKey, updated_at: updatedAt })
        .where('id', '=', userId)
        .execute();
    } catch (error) {
      if (this.isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('created_at').execute();
    return rows.map(fromUserRow);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values(toSessionRow(session)).execute();
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromSessionRow(row);
  }

  /** Engines override this with one prepared join (SESSION_WITH_USER_SQL). */
  async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    const session = await this.findSession(id);
    const user = session && (await this.findUserById(session.userId));
    return session && user && { session, user };
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).execute();
  }

  async setSessionSecret(id: string, secretHash: string): Promise<void> {
    await this.db.updateTable('sessions').set({ secret_hash: secretHash }).where('id', '=', id).execute();
  }

  async deleteSession(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    let query = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keepId !== undefined) query = query.where('id', '!=', keepId);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteAllSessions(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listUserSessions(userId: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(fromSessionRow);
  }

  async listSessions(): Promise<SessionRecord[]> {
    const rows = await this.db.selectFrom('sessions').selectAll().orderBy('created_at', 'desc').execute();
    return rows.map(fromSessionRow);
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleBefore)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(toRefreshTokenRow(token)).execute();
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromRefreshTokenRow(row);
  }

  async retireRefreshToken(id: string, retiredAt: number): Promise<boolean> {
    // One conditional UPDATE: the database serialises racing refreshes, so only one sees a row change.
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ retired_at: retiredAt })
      .where('id', '=', id)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async rotateRefreshToken(retireId: string, next: RefreshTokenRecord): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const retired = await trx
        .updateTable('refresh_tokens')
        .set({ retired_at: next.createdAt })
        .where('id', '=', retireId)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (retired.numUpdatedRows === 0n) return false;
      await trx
        .updateTable('refresh_tokens')
        .set({ retired_at: next.createdAt })
        .where('session_id', '=', next.sessionId)
        .where('retired_at', 'is', null)
        .execute();
      await trx.insertInto('refresh_tokens').values(toRefreshTokenRow(next)).execute();
      return true;
    });
  }

  async retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ retired_at: retiredAt })
      .where('session_id', '=', sessionId)
      .where('id', '!=', keepId)
      .where('retired_at', 'is', null)
      .execute();
  }

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    return rows.map(fromSigningKeyRow);
  }

  async createSigningKey(key: StoredSigningKey): Promise<void> {
    await this.db.insertInto('signing_keys').values(toSigningKeyRow(key)).execute();
  }

  async updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ status, retired_at: retiredAt })
      .where('kid', '=', kid)
      .execute();
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('signing_keys').where('kid', '=', kid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async appendAuditEvent(event: AuditEvent): Promise<void> {
    await this.db.insertInto('audit_events').values(toAuditEventRow(event)).execute();
  }

  async listAuditEvents(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(fromAuditEventRow);
  }

  async deleteAuditEventsBefore(before: number): Promise<number> {
    const result = await this.db.deleteFrom('audit_events').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord> {
    const row = await this.db
      .insertInto('revocations')
      .values({
        kind: revocation.kind,
        subject: revocation.subject,
        at: revocation.at,
        expires_at: revocation.expiresAt,
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return { ...revocation, seq: Number(row.seq) };
  }

  async listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('seq', '>', afterSeq)
      .where('expires_at', '>', now)
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      seq: Number(row.seq),
      kind: row.kind as RevocationRecord['kind'],
      subject: row.subject,
      at: Number(row.at),
      expiresAt: Number(row.expires_at),
    }));
  }

  async deleteExpiredRevocations(now: number): Promise<number> {
    const result = await this.db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async createOAuthClient(client: OAuthClientRecord): Promise<void> {
    await this.db.insertInto('oauth_clients').values(toOAuthClientRow(client)).execute();
  }

  async findOAuthClient(id: string): Promise<OAuthClientRecord | undefined> {
    const row = await this.db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromOAuthClientRow(row);
  }

  async listOAuthClients(): Promise<OAuthClientRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_clients')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromOAuthClientRow);
  }

  async deleteOAuthClient(id: string): Promise<boolean> {
    // Grants and codes go with it (foreign keys, on delete cascade).
    const result = await this.db.deleteFrom('oauth_clients').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async saveOAuthGrant(grant: OAuthGrantRecord): Promise<void> {
    const scopes = JSON.stringify(grant.scopes);
    await this.db
      .insertInto('oauth_grants')
      .values({
        user_id: grant.userId,
        client_id: grant.clientId,
        scopes,
        created_at: grant.createdAt,
        last_used_at: grant.lastUsedAt,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes, last_used_at: grant.lastUsedAt }),
      )
      .execute();
  }

  async findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined> {
    const row = await this.db
      .selectFrom('oauth_grants')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && fromOAuthGrantRow(row);
  }

  async listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_grants')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('client_id')
      .execute();
    return rows.map(fromOAuthGrantRow);
  }

  async touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void> {
    await this.db
      .updateTable('oauth_grants')
      .set({ last_used_at: lastUsedAt })
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .execute();
  }

  async deleteOAuthGrant(userId: string, clientId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('oauth_grants')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.db
      .insertInto('oauth_codes')
      .values({
        id: code.id,
        secret_hash: code.secretHash,
        client_id: code.clientId,
        user_id: code.userId,
        session_id: code.sessionId,
        redirect_uri: code.redirectUri,
        code_challenge: code.codeChallenge,
        scopes: JSON.stringify(code.scopes),
        audience: code.audience,
        created_at: code.createdAt,
        expires_at: code.expiresAt,
        used_at: code.usedAt,
      })
      .execute();
  }

  async findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.db.selectFrom('oauth_codes').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromAuthorizationCodeRow(row);
  }

  async useAuthorizationCode(id: string, usedAt: number): Promise<boolean> {
    // One conditional UPDATE, as retireRefreshToken: of racing exchanges exactly one wins.
    const result = await this.db
      .updateTable('oauth_codes')
      .set({ used_at: usedAt })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
  ): Promise<boolean> {
    // The conditional UPDATE holds the code's row lock until commit: a racing replay's UPDATE
    // waits, then finds the code used, and by then the login is committed for it to revoke.
    return this.db.transaction().execute(async (trx) => {
      const used = await trx
        .updateTable('oauth_codes')
        .set({ used_at: usedAt })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (used.numUpdatedRows === 0n) return false;
      await trx.insertInto('sessions').values(toSessionRow(login)).execute();
      await trx.insertInto('refresh_tokens').values(toRefreshTokenRow(refreshToken)).execute();
      return true;
    });
  }

  async createConsentTicket(ticket: ConsentTicketRecord): Promise<void> {
    await this.db
      .insertInto('oauth_consent_tickets')
      .values({
        id: ticket.id,
        secret_hash: ticket.secretHash,
        session_id: ticket.sessionId,
        user_id: ticket.userId,
        client_id: ticket.clientId,
        redirect_uri: ticket.redirectUri,
        scopes: JSON.stringify(ticket.scopes),
        state: ticket.state,
        code_challenge: ticket.codeChallenge,
        created_at: ticket.createdAt,
        expires_at: ticket.expiresAt,
      })
      .execute();
  }

  async takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined> {
    // DELETE … RETURNING: the database gives the row to exactly one of racing takers.
    const row = await this.db
      .deleteFrom('oauth_consent_tickets')
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        secretHash: row.secret_hash,
        sessionId: row.session_id,
        userId: row.user_id,
        clientId: row.client_id,
        redirectUri: row.redirect_uri,
        scopes: JSON.parse(row.scopes) as string[],
        state: row.state,
        codeChallenge: row.code_challenge,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async deleteExpiredConsentTickets(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oauth_consent_tickets')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteExpiredAuthorizationCodes(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oauth_codes')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]> {
    let query = this.db
      .selectFrom('sessions')
      .selectAll()
      .where('mode', '=', 'oauth')
      .where('client_id', '=', filter.clientId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    const rows = await query.orderBy('created_at', 'desc').execute();
    return rows.map(fromSessionRow);
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        user_id: key.userId,
        name: key.name,
        secret_hash: key.secretHash,
        scopes: JSON.stringify(key.scopes),
        created_at: key.createdAt,
        expires_at: key.expiresAt,
        last_used_at: key.lastUsedAt,
        revoked_at: key.revokedAt,
      })
      .execute();
  }

  async findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromApiKeyRow(row);
  }

  async listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]> {
    let query = this.db.selectFrom('api_keys').selectAll();
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(fromApiKeyRow);
  }

  async revokeApiKey(id: string, revokedAt: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: revokedAt })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: lastUsedAt }).where('id', '=', id).execute();
  }

  /** One transaction: the account change, the deleted logins, the revoked keys, the revocation record. */
  async endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    const { target, account } = ending;
    return this.db.transaction().execute(async (trx) => {
      if (ending.keepAnAdmin && this.engine === 'postgres') {
        // Two admins demoting each other at once would each still see the other: serialise.
        await sql`select pg_advisory_xact_lock(${ADMIN_CHANGE_LOCK})`.execute(trx);
      }
      if ('userId' in target && account) {
        await trx
          .updateTable('users')
          .set({
            ...(account.lock && { locked_at: account.lock.lockedAt, lock_reason: account.lock.reason }),
            ...(account.roles && { roles: JSON.stringify(account.roles) }),
            ...(account.passwordHash !== undefined && { password_hash: account.passwordHash }),
            updated_at: account.updatedAt,
          })
          .where('id', '=', target.userId)
          .execute();
      }
      if (ending.keepAnAdmin) {
        const admins = await trx
          .selectFrom('users')
          .selectAll()
          .where('locked_at', 'is', null)
          .where('roles', 'like', '%"admin"%')
          .execute();
        if (!hasActiveAdmin(admins.map(fromUserRow))) throw new LastAdminError();
      }
      let sessions = 0;
      if (ending.endSessions) {
        let query = trx.deleteFrom('sessions');
        if ('sessionId' in target) query = query.where('id', '=', target.sessionId);
        else if ('userId' in target) {
          query = query.where('user_id', '=', target.userId);
          if (target.keepSessionId !== undefined) query = query.where('id', '!=', target.keepSessionId);
        }
        sessions = Number((await query.executeTakeFirst()).numDeletedRows);
      }
      let apiKeys = 0;
      if (ending.revokeApiKeysAt !== undefined && !('sessionId' in target)) {
        let query = trx
          .updateTable('api_keys')
          .set({ revoked_at: ending.revokeApiKeysAt })
          .where('revoked_at', 'is', null);
        if ('userId' in target) query = query.where('user_id', '=', target.userId);
        apiKeys = Number((await query.executeTakeFirst()).numUpdatedRows);
      }
      const append = !('sessionId' in target) || sessions > 0;
      if (!append || !ending.revocation) return { sessions, apiKeys };
      const { kind, subject, at, expiresAt } = ending.revocation;
      const row = await trx
        .insertInto('revocations')
        .values({ kind, subject, at, expires_at: expiresAt })
        .returning('seq')
        .executeTakeFirstOrThrow();
      return { sessions, apiKeys, revocation: { ...ending.revocation, seq: Number(row.seq) } };
    });
  }
}

const toUserRow = (user: UserRecord): UserRow => ({
  id: user.id,
  email: user.email,
  email_key: user.emailKey,
  password_hash: user.passwordHash,
  roles: JSON.stringify(user.roles),
  locked_at: user.lockedAt,
  lock_reason: user.lockReason,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

// Number(): PostgreSQL drivers return bigint columns as strings.
export const fromUserRow = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  emailKey: row.email_key,
  passwordHash: row.password_hash,
  roles: JSON.parse(row.roles) as string[],
  lockedAt: row.locked_at === null ? null : Number(row.locked_at),
  lockReason: row.lock_reason,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const toSessionRow = (session: SessionRecord): SessionRow => ({
  id: session.id,
  user_id: session.userId,
  mode: session.mode,
  secret_hash: session.secretHash,
  created_at: session.createdAt,
  last_seen_at: session.lastSeenAt,
  expires_at: session.expiresAt,
  ip: session.ip,
  user_agent: session.userAgent,
  client_id: session.oauth?.clientId ?? null,
  scopes: session.oauth ? JSON.stringify(session.oauth.scopes) : null,
  audience: session.oauth?.audience ?? null,
});

export const fromSessionRow = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  mode: row.mode as SessionRecord['mode'],
  secretHash: row.secret_hash,
  createdAt: Number(row.created_at),
  lastSeenAt: Number(row.last_seen_at),
  expiresAt: Number(row.expires_at),
  ip: row.ip,
  userAgent: row.user_agent,
  // Only OAuth logins have it; other records keep exactly their old shape.
  ...(row.client_id === null || row.client_id === undefined
    ? {}
    : {
        oauth: {
          clientId: row.client_id,
          scopes: JSON.parse(row.scopes ?? '[]') as string[],
          audience: row.audience ?? '',
        },
      }),
});

/**
 * The session and its owner in one read, for the engines' prepared statements; `param` is the
 * engine's placeholder. Every column named (a prepared `select *` breaks on PostgreSQL once a
 * migration adds a column); the user's carry a `user_` prefix.
 */
export const sessionWithUserSql = (param: string) =>
  `select s.id, s.user_id, s.mode, s.secret_hash, s.created_at, s.last_seen_at, s.expires_at, s.ip,
  s.user_agent, s.client_id, s.scopes, s.audience, u.email as user_email, u.email_key as user_email_key,
  u.password_hash as user_password_hash, u.roles as user_roles, u.locked_at as user_locked_at,
  u.lock_reason as user_lock_reason, u.created_at as user_created_at, u.updated_at as user_updated_at
  from sessions s join users u on u.id = s.user_id where s.id = ${param}`;

export type SessionWithUserRow = SessionRow & {
  [K in Exclude<keyof UserRow, 'id'> as `user_${K}`]: UserRow[K];
};

export const fromSessionWithUserRow = (row: SessionWithUserRow): SessionWithUser => {
  // Listing every user column: one added to schema.ts is a compile error here until it is read.
  const user: UserRow = {
    id: row.user_id,
    email: row.user_email,
    email_key: row.user_email_key,
    password_hash: row.user_password_hash,
    roles: row.user_roles,
    locked_at: row.user_locked_at,
    lock_reason: row.user_lock_reason,
    created_at: row.user_created_at,
    updated_at: row.user_updated_at,
  };
  return { session: fromSessionRow(row), user: fromUserRow(user) };
};

const toRefreshTokenRow = (token: RefreshTokenRecord): RefreshTokenRow => ({
  id: token.id,
  session_id: token.sessionId,
  secret_hash: token.secretHash,
  created_at: token.createdAt,
  retired_at: token.retiredAt,
});

export const fromRefreshTokenRow = (row: RefreshTokenRow): RefreshTokenRecord => ({
  id: row.id,
  sessionId: row.session_id,
  secretHash: row.secret_hash,
  createdAt: Number(row.created_at),
  retiredAt: row.retired_at === null ? null : Number(row.retired_at),
});

const toSigningKeyRow = (key: StoredSigningKey): SigningKeyRow => ({
  kid: key.kid,
  alg: key.alg,
  status: key.status,
  created_at: key.createdAt,
  retired_at: key.retiredAt,
  public_jwk: key.publicJwk,
  private_key_encrypted: key.privateKeyEncrypted,
});

const fromSigningKeyRow = (row: SigningKeyRow): StoredSigningKey => ({
  kid: row.kid,
  alg: row.alg as StoredSigningKey['alg'],
  status: row.status as StoredSigningKey['status'],
  createdAt: Number(row.created_at),
  retiredAt: row.retired_at === null ? null : Number(row.retired_at),
  publicJwk: row.public_jwk,
  privateKeyEncrypted: row.private_key_encrypted,
});

const toAuditEventRow = (event: AuditEvent): AuditEventRow => ({
  id: event.id,
  at: event.at,
  type: event.type,
  actor_id: event.actorId,
  user_id: event.userId,
  session_id: event.sessionId,
  ip: event.ip,
  user_agent: event.userAgent,
  detail: event.detail,
});

const fromAuditEventRow = (row: AuditEventRow): AuditEvent => ({
  id: row.id,
  at: Number(row.at),
  type: row.type,
  actorId: row.actor_id,
  userId: row.user_id,
  sessionId: row.session_id,
  ip: row.ip,
  userAgent: row.user_agent,
  detail: row.detail,
});

const toOAuthClientRow = (client: OAuthClientRecord): OAuthClientRow => ({
  id: client.id,
  name: client.name,
  type: client.type,
  secret_hash: client.secretHash,
  redirect_uris: JSON.stringify(client.redirectUris),
  scopes: JSON.stringify(client.scopes),
  grant_types: JSON.stringify(client.grantTypes),
  audience: client.audience,
  created_at: client.createdAt,
});

const fromOAuthClientRow = (row: OAuthClientRow): OAuthClientRecord => ({
  id: row.id,
  name: row.name,
  type: row.type as OAuthClientRecord['type'],
  secretHash: row.secret_hash,
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  scopes: JSON.parse(row.scopes) as string[],
  grantTypes: JSON.parse(row.grant_types) as OAuthClientRecord['grantTypes'],
  audience: row.audience,
  createdAt: Number(row.created_at),
});

const fromOAuthGrantRow = (row: OAuthGrantRow): OAuthGrantRecord => ({
  userId: row.user_id,
  clientId: row.client_id,
  scopes: JSON.parse(row.scopes) as string[],
  createdAt: Number(row.created_at),
  lastUsedAt: Number(row.last_used_at),
});

const fromAuthorizationCodeRow = (row: AuthorizationCodeRow): AuthorizationCodeRecord => ({
  id: row.id,
  secretHash: row.secret_hash,
  clientId: row.client_id,
  userId: row.user_id,
  sessionId: row.session_id,
  redirectUri: row.redirect_uri,
  codeChallenge: row.code_challenge,
  scopes: JSON.parse(row.scopes) as string[],
  audience: row.audience,
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  usedAt: row.used_at === null ? null : Number(row.used_at),
});

const fromApiKeyRow = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  secretHash: row.secret_hash,
  scopes: JSON.parse(row.scopes) as string[],
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
});
