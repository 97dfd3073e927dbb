import {
  type EndedLogin,
  endingEvent,
  hasActiveAdmin,
  LastAdminError,
  type LoginEnding,
  type LoginEndingStore,
  type LoginsEnded,
  type SessionRecord,
  type UserRecord,
} from '../ports/index.js';
import type { MemoryTables } from './tables.js';

/** All or nothing by construction: every check runs before the first change, with no await between. */
export class MemoryLoginEndingStore implements LoginEndingStore {
  constructor(private readonly tables: MemoryTables) {}

  async endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    const { users, apiKeys, revocations } = this.tables;
    const { target, account } = ending;
    const userId = 'userId' in target ? target.userId : undefined;
    const user = userId === undefined ? undefined : users.get(userId);
    const changed = user && account && { ...user, ...changedFields(account) };
    if (ending.keepAnAdmin && changed) {
      const after = [...users.values()].map((u) => (u.id === changed.id ? changed : u));
      if (!hasActiveAdmin(after)) throw new LastAdminError();
    }
    if (user && changed) Object.assign(user, changed);
    const ends = (s: SessionRecord) =>
      'sessionId' in target
        ? s.id === target.sessionId
        : 'userId' in target
          ? s.userId === target.userId && s.id !== target.keepSessionId
          : 'expired' in target
            ? s.expiresAt <= target.expired.now || s.lastSeenAt <= target.expired.idleBefore
            : true;
    const limit = 'expired' in target ? target.expired.limit : Infinity;
    const logins: EndedLogin[] = ending.endSessions
      ? this.tables.deleteSessionsReturning(ends, limit).map((s) => ({
          id: s.id,
          userId: s.userId,
          ...(s.oauth && { clientId: s.oauth.clientId }),
        }))
      : [];
    const sessions = logins.length;
    const event = endingEvent(ending, logins);
    if (event)
      this.tables.securityEvents.set(event.id, {
        ...event,
        fannedOutAt: null,
        leaseOwner: null,
        leaseUntil: null,
      });
    let keys = 0;
    if (ending.revokeApiKeysAt !== undefined && !('sessionId' in target) && !('expired' in target)) {
      for (const key of apiKeys.values()) {
        if (key.revokedAt !== null || (userId !== undefined && key.userId !== userId)) continue;
        key.revokedAt = ending.revokeApiKeysAt;
        keys++;
      }
    }
    const append = !('sessionId' in target) || sessions > 0;
    if (!append || !ending.revocation) return { sessions, logins, apiKeys: keys };
    const revocation = { ...ending.revocation, seq: ++this.tables.revocationSeq };
    revocations.push(revocation);
    return { sessions, logins, apiKeys: keys, revocation: { ...revocation } };
  }
}

/** The fields of a user record an ending's account change sets. */
const changedFields = (account: NonNullable<LoginEnding['account']>): Partial<UserRecord> => ({
  ...(account.lock && { lockedAt: account.lock.lockedAt, lockReason: account.lock.reason }),
  ...(account.roles && { roles: [...account.roles] }),
  ...(account.passwordHash !== undefined && { passwordHash: account.passwordHash }),
  updatedAt: account.updatedAt,
});
