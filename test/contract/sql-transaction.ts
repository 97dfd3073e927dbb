import { beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '../../src/store/ports/index.js';
import type { SqlStores } from '../../src/store/sql/stores.js';

/** SqlStores.transaction: several aggregates changed all or nothing, on every SQL engine. */
export function sqlTransactionContract(engine: string, openStores: () => Promise<SqlStores>): void {
  describe(`multi-store transactions: ${engine}`, () => {
    let stores: SqlStores;
    beforeEach(async () => {
      stores = await openStores();
      return () => stores.close();
    });
    const user: UserRecord = {
      id: 'u1',
      email: 'u1@example.com',
      emailKey: 'u1@example.com',
      passwordHash: 'hash',
      roles: [],
      lockedAt: null,
      lockReason: null,
      createdAt: 1,
      updatedAt: 1,
    };
    const session: SessionRecord = {
      id: 's1',
      userId: 'u1',
      mode: 'jwt',
      secretHash: '',
      createdAt: 2,
      lastSeenAt: 2,
      expiresAt: 50_000,
      ip: '::1',
      userAgent: 'ua',
      authTime: 2,
      amr: ['pwd'],
      acr: 'aal1',
    };
    const token = (id: string, createdAt: number) => ({
      id,
      sessionId: 's1',
      secretHash: 'ef'.repeat(32),
      createdAt,
      retiredAt: null,
      successor: null,
    });

    it('commits the writes of several stores together', async () => {
      await stores.transaction(async (tx) => {
        await tx.users.createUser(user);
        await tx.sessions.createSession(session);
        await tx.refreshTokens.createRefreshToken(token('r1', 3));
      });
      expect(await stores.sessions.findSessionWithUser('s1')).toEqual({ session, user });
      expect(await stores.refreshTokens.findRefreshToken('r1')).toEqual(token('r1', 3));
    });

    it('rolls every store back when the work throws, a rotation inside it included', async () => {
      await stores.users.createUser(user);
      await stores.sessions.createSession(session);
      await stores.refreshTokens.createRefreshToken(token('r1', 3));
      const failure = new Error('after the writes');
      await expect(
        stores.transaction(async (tx) => {
          await tx.users.setUserLock('u1', 10, 'test', 10);
          expect(await tx.refreshTokens.rotateRefreshToken('r1', token('r2', 10), 'sealed')).toBe(true);
          await tx.audit.appendAuditEvent({
            id: 'e1',
            at: 10,
            type: 'test',
            actorId: null,
            userId: 'u1',
            sessionId: 's1',
            ip: '::1',
            userAgent: 'ua',
            detail: '{}',
          });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect((await stores.users.findUserById('u1'))?.lockedAt).toBeNull();
      expect(await stores.refreshTokens.findRefreshToken('r1')).toEqual(token('r1', 3));
      expect(await stores.refreshTokens.findRefreshToken('r2')).toBeUndefined();
      expect(await stores.audit.listAuditEvents({ limit: 10 })).toEqual([]);
    });

    it('an ending of logins inside the work joins it: rolled back with everything else', async () => {
      await stores.users.createUser(user);
      await stores.sessions.createSession(session);
      const failure = new Error('after the ending');
      await expect(
        stores.transaction(async (tx) => {
          const ended = await tx.loginEndings.endLogins({
            target: { userId: 'u1' },
            account: { lock: { lockedAt: 10, reason: 'test' }, updatedAt: 10 },
            endSessions: true,
            revocation: { kind: 'user', subject: 'u1', at: 10, expiresAt: 1_000 },
          });
          expect(ended).toMatchObject({ sessions: 1, revocation: { kind: 'user' } });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await stores.sessions.findSessionWithUser('s1')).toEqual({ session, user });
      expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([]);
    });
  });
}
