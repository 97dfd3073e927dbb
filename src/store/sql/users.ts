import { type Kysely, type Selectable, sql } from 'kysely';
import { EmailTakenError, type UserRecord, type UserStore } from '../ports/index.js';
import type { Database } from './schema.js';

export type UserRow = Selectable<Database['users']>;

export class SqlUserStore implements UserStore {
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (error: unknown) => boolean,
  ) {}

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

  /**
   * A range on the unique email_key index: [prefix, prefix's successor), then LIKE (escaped) so
   * a collation that sorts oddly still returns only matches.
   */
  async listUsersPage(query: {
    afterEmailKey?: string;
    limit: number;
    emailKeyPrefix?: string;
  }): Promise<UserRecord[]> {
    let select = this.db.selectFrom('users').selectAll();
    const prefix = query.emailKeyPrefix;
    if (prefix) {
      select = select
        .where('email_key', '>=', prefix)
        .where('email_key', '<', prefixSuccessor(prefix))
        .where(sql<boolean>`email_key like ${`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
    }
    if (query.afterEmailKey !== undefined) select = select.where('email_key', '>', query.afterEmailKey);
    const rows = await select.orderBy('email_key').limit(query.limit).execute();
    return rows.map(fromUserRow);
  }
}

/** The smallest string greater than every string starting with `prefix` (last code unit + 1). */
export const prefixSuccessor = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

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
