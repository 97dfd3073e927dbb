import type { Kysely, Selectable } from 'kysely';
import type {
  MaybePromise,
  SessionPageKey,
  SessionRecord,
  SessionStore,
  SessionWithEmail,
  SessionWithUser,
} from '../ports/index.js';
import type { Database } from './schema.js';
import { fromUserRow, type UserRow } from './users.js';

type SessionRow = Selectable<Database['sessions']>;

/** Engines override the per-request reads (findSession, findSessionWithUser, touchSession) with prepared statements. */
export class SqlSessionStore implements SessionStore {
  constructor(protected readonly db: Kysely<Database>) {}

  async createSession(session: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values(toSessionRow(session)).execute();
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromSessionRow(row);
  }

  /**
   * Two reads here; the engines make it one prepared join (sessionWithUserSql). Typed as the
   * port's MaybePromise so that SQLite's override may answer synchronously.
   */
  findSessionWithUser(id: string): MaybePromise<SessionWithUser | undefined> {
    return this.#findSessionThenUser(id);
  }

  async #findSessionThenUser(id: string): Promise<SessionWithUser | undefined> {
    const session = await this.findSession(id);
    const user =
      session &&
      (await this.db.selectFrom('users').selectAll().where('id', '=', session.userId).executeTakeFirst());
    return session && user && { session, user: fromUserRow(user) };
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).execute();
  }

  async setSessionAuthContext(
    id: string,
    context: { authTime: number; amr: string[]; acr: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ auth_time: context.authTime, amr: JSON.stringify(context.amr), acr: context.acr })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
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

  /** One query: the (created_at, id) / (user_id, created_at, id) indexes, users joined for the email. */
  async listSessionsPage(query: {
    after?: SessionPageKey;
    limit: number;
    userId?: string;
  }): Promise<SessionWithEmail[]> {
    let select = this.db
      .selectFrom('sessions')
      .leftJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('sessions')
      .select('users.email as owner_email');
    if (query.userId !== undefined) select = select.where('sessions.user_id', '=', query.userId);
    const after = query.after;
    if (after) {
      // A row comparison: PostgreSQL and SQLite both make it the index range's start (an OR of
      // the two cases is only a filter on PostgreSQL, so deep pages would scan every newer row).
      select = select.where((eb) =>
        eb(eb.refTuple('sessions.created_at', 'sessions.id'), '<', eb.tuple(after.createdAt, after.id)),
      );
    }
    const rows = await select
      .orderBy('sessions.created_at', 'desc')
      .orderBy('sessions.id', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(({ owner_email, ...row }) => ({
      session: fromSessionRow(row),
      email: owner_email ?? null,
    }));
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

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleBefore)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

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
  auth_time: session.authTime,
  amr: JSON.stringify(session.amr),
  acr: session.acr,
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
  authTime: Number(row.auth_time),
  amr: JSON.parse(row.amr) as string[],
  acr: row.acr,
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
  s.user_agent, s.client_id, s.scopes, s.audience, s.auth_time, s.amr, s.acr, u.email as user_email, u.email_key as user_email_key,
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
