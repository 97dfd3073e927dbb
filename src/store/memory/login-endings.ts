import {
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
          : true;
    const sessions = ending.endSessions ? this.tables.deleteSessionsWhere(ends) : 0;
    let keys = 0;
    if (ending.revokeApiKeysAt !== undefined && !('sessionId' in target)) {
      for (const key of apiKeys.values()) {
        if (key.revokedAt !== null || (userId !== undefined && key.userId !== userId)) continue;
        key.revokedAt = ending.revokeApiKeysAt;
        keys++;
      }
    }
    const append = !('sessionId' in target) || sessions > 0;
    if (!append || !ending.revocation) return { sessions, apiKeys: keys };
    const revocation = { ...ending.revocation, seq: ++this.tables.revocationSeq };
    revocations.push(revocation);
    return { sessions, apiKeys: keys, revocation: { ...revocation } };
  }
}

/** The fields of a user record an ending's account change sets. */
const changedFields = (account: NonNullable<LoginEnding['account']>): Partial<UserRecord> => ({
  ...(account.lock && { lockedAt: account.lock.lockedAt, lockReason: account.lock.reason }),
  ...(account.roles && { roles: [...account.roles] }),
  ...(account.passwordHash !== undefined && { passwordHash: account.passwordHash }),
  updatedAt: account.updatedAt,
});
