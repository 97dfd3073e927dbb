import { EmailTakenError, type SessionRecord, type Store, type UserRecord } from '../ports.js';

/**
 * In-process engine: for tests and for trying Tessera without a disk. Records are copied
 * in and out so callers cannot mutate stored state by accident, as with a real database.
 */
export class MemoryStore implements Store {
  readonly engine = 'memory';
  readonly #users = new Map<string, UserRecord>();
  readonly #userIdByEmail = new Map<string, string>();
  readonly #sessions = new Map<string, SessionRecord>();

  async ping(): Promise<void> {}
  async close(): Promise<void> {}

  async createUser(user: UserRecord): Promise<void> {
    if (this.#userIdByEmail.has(user.email)) throw new EmailTakenError();
    this.#users.set(user.id, copyUser(user));
    this.#userIdByEmail.set(user.email, user.id);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const id = this.#userIdByEmail.get(email);
    return id === undefined ? undefined : this.findUserById(id);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const user = this.#users.get(id);
    return user && copyUser(user);
  }

  async setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void> {
    const user = this.#users.get(userId);
    if (user) Object.assign(user, { passwordHash, updatedAt });
  }

  async listUsers(): Promise<UserRecord[]> {
    return [...this.#users.values()].sort((a, b) => a.createdAt - b.createdAt).map(copyUser);
  }

  async createSession(session: SessionRecord): Promise<void> {
    this.#sessions.set(session.id, { ...session });
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const session = this.#sessions.get(id);
    return session && { ...session };
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
    return this.#sessions.delete(id);
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    return this.#deleteWhere((s) => s.userId === userId && s.id !== keepId);
  }

  async listUserSessions(userId: string): Promise<SessionRecord[]> {
    return (await this.listSessions()).filter((s) => s.userId === userId);
  }

  async listSessions(): Promise<SessionRecord[]> {
    return [...this.#sessions.values()].sort((a, b) => b.createdAt - a.createdAt).map((s) => ({ ...s }));
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.#deleteWhere((s) => s.expiresAt <= now || s.lastSeenAt <= idleBefore);
  }

  #deleteWhere(predicate: (session: SessionRecord) => boolean): number {
    let deleted = 0;
    for (const [id, session] of this.#sessions) {
      if (predicate(session)) {
        this.#sessions.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}

const copyUser = (user: UserRecord): UserRecord => ({ ...user, roles: [...user.roles] });
