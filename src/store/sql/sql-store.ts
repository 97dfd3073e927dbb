import { type Kysely, type Selectable, sql } from 'kysely';
import { EmailTakenError, type SessionRecord, type Store, type UserRecord } from '../ports.js';
import type { Database } from './schema.js';

type UserRow = Selectable<Database['users']>;
type SessionRow = Selectable<Database['sessions']>;

/**
 * The store ports over kysely: one implementation for every SQL engine. Engine-specific
 * concerns (opening the connection, pragmas, error codes) stay in the engine's own file.
 */
export class SqlStore implements Store {
  constructor(
    readonly engine: string,
    readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (error: unknown) => boolean,
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

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
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
}

const toUserRow = (user: UserRecord): UserRow => ({
  id: user.id,
  email: user.email,
  password_hash: user.passwordHash,
  roles: JSON.stringify(user.roles),
  locked_at: user.lockedAt,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

// Number(): PostgreSQL drivers return bigint columns as strings.
export const fromUserRow = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  passwordHash: row.password_hash,
  roles: JSON.parse(row.roles) as string[],
  lockedAt: row.locked_at === null ? null : Number(row.locked_at),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const toSessionRow = (session: SessionRecord): SessionRow => ({
  id: session.id,
  user_id: session.userId,
  secret_hash: session.secretHash,
  created_at: session.createdAt,
  last_seen_at: session.lastSeenAt,
  expires_at: session.expiresAt,
  ip: session.ip,
  user_agent: session.userAgent,
});

export const fromSessionRow = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  secretHash: row.secret_hash,
  createdAt: Number(row.created_at),
  lastSeenAt: Number(row.last_seen_at),
  expiresAt: Number(row.expires_at),
  ip: row.ip,
  userAgent: row.user_agent,
});
