import type {
  SessionPageKey,
  SessionRecord,
  SessionStore,
  SessionWithEmail,
  SessionWithUser,
} from '../ports/index.js';
import { compareIds, copySession, copyUser, type MemoryTables } from './tables.js';

export class MemorySessionStore implements SessionStore {
  constructor(private readonly tables: MemoryTables) {}

  async createSession(session: SessionRecord): Promise<void> {
    this.tables.sessions.set(session.id, copySession(session));
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const session = this.tables.sessions.get(id);
    return session && copySession(session);
  }

  // Synchronous: the memory engine's per-request read (MaybePromise).
  findSessionWithUser(id: string): SessionWithUser | undefined {
    const session = this.tables.sessions.get(id);
    const user = session && this.tables.users.get(session.userId);
    return session && user && { session: copySession(session), user: copyUser(user) };
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    const session = this.tables.sessions.get(id);
    if (session) session.lastSeenAt = lastSeenAt;
  }

  async setSessionAuthContext(
    id: string,
    context: { authTime: number; amr: string[]; acr: string },
  ): Promise<boolean> {
    const session = this.tables.sessions.get(id);
    if (!session) return false;
    Object.assign(session, { authTime: context.authTime, amr: [...context.amr], acr: context.acr });
    return true;
  }

  async setSessionSecret(id: string, secretHash: string): Promise<void> {
    const session = this.tables.sessions.get(id);
    if (session) session.secretHash = secretHash;
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.tables.deleteSessionsWhere((s) => s.id === id) > 0;
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    return this.tables.deleteSessionsWhere((s) => s.userId === userId && s.id !== keepId);
  }

  async deleteAllSessions(): Promise<number> {
    return this.tables.deleteSessionsWhere(() => true);
  }

  async listUserSessions(userId: string): Promise<SessionRecord[]> {
    return (await this.listSessions()).filter((s) => s.userId === userId);
  }

  async listSessions(): Promise<SessionRecord[]> {
    return [...this.tables.sessions.values()].sort((a, b) => b.createdAt - a.createdAt).map(copySession);
  }

  async listSessionsPage(query: {
    after?: SessionPageKey;
    limit: number;
    userId?: string;
  }): Promise<SessionWithEmail[]> {
    const { after, userId } = query;
    return [...this.tables.sessions.values()]
      .filter((s) => userId === undefined || s.userId === userId)
      .filter(
        (s) =>
          !after ||
          s.createdAt < after.createdAt ||
          (s.createdAt === after.createdAt && compareIds(s.id, after.id) < 0),
      )
      .sort((a, b) => b.createdAt - a.createdAt || compareIds(b.id, a.id))
      .slice(0, Math.max(0, query.limit))
      .map((s) => ({ session: copySession(s), email: this.tables.users.get(s.userId)?.email ?? null }));
  }

  async listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]> {
    return (await this.listSessions()).filter(
      (s) =>
        s.mode === 'oauth' &&
        s.oauth?.clientId === filter.clientId &&
        (filter.userId === undefined || s.userId === filter.userId),
    );
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.tables.deleteSessionsWhere((s) => s.expiresAt <= now || s.lastSeenAt <= idleBefore);
  }
}
