import { EmailTakenError, type UserRecord, type UserStore } from '../ports/index.js';
import { compareIds, copyUser, type MemoryTables } from './tables.js';

export class MemoryUserStore implements UserStore {
  constructor(private readonly tables: MemoryTables) {}

  async createUser(user: UserRecord): Promise<void> {
    if (this.tables.userIdByEmailKey.has(user.emailKey)) throw new EmailTakenError();
    this.tables.users.set(user.id, copyUser(user));
    this.tables.userIdByEmailKey.set(user.emailKey, user.id);
  }

  async findUserByEmailKey(emailKey: string): Promise<UserRecord | undefined> {
    const id = this.tables.userIdByEmailKey.get(emailKey);
    return id === undefined ? undefined : this.findUserById(id);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const user = this.tables.users.get(id);
    return user && copyUser(user);
  }

  async setUserRoles(userId: string, roles: string[], updatedAt: number): Promise<void> {
    const user = this.tables.users.get(userId);
    if (user) Object.assign(user, { roles: [...roles], updatedAt });
  }

  async setUserLock(
    userId: string,
    lockedAt: number | null,
    reason: string | null,
    updatedAt: number,
  ): Promise<void> {
    const user = this.tables.users.get(userId);
    if (user) Object.assign(user, { lockedAt, lockReason: reason, updatedAt });
  }

  async setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void> {
    const user = this.tables.users.get(userId);
    if (user) Object.assign(user, { passwordHash, updatedAt });
  }

  async setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void> {
    const user = this.tables.users.get(userId);
    if (!user) return;
    const holder = this.tables.userIdByEmailKey.get(emailKey);
    if (holder !== undefined && holder !== userId) throw new EmailTakenError();
    this.tables.userIdByEmailKey.delete(user.emailKey);
    this.tables.userIdByEmailKey.set(emailKey, userId);
    Object.assign(user, { email, emailKey, updatedAt });
  }

  async listUsers(): Promise<UserRecord[]> {
    return [...this.tables.users.values()].sort((a, b) => a.createdAt - b.createdAt).map(copyUser);
  }

  async listUsersPage(query: {
    afterEmailKey?: string;
    limit: number;
    emailKeyPrefix?: string;
  }): Promise<UserRecord[]> {
    const { afterEmailKey, emailKeyPrefix } = query;
    return [...this.tables.users.values()]
      .filter((u) => !emailKeyPrefix || u.emailKey.startsWith(emailKeyPrefix))
      .filter((u) => afterEmailKey === undefined || u.emailKey > afterEmailKey)
      .sort((a, b) => compareIds(a.emailKey, b.emailKey))
      .slice(0, Math.max(0, query.limit))
      .map(copyUser);
  }
}
