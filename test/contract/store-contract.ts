import { beforeEach, describe, expect, it } from 'vitest';
import { EmailTakenError, type SessionRecord, type Store, type UserRecord } from '../../src/store/ports.js';

/**
 * The behaviour every store engine must have. Each engine's test file calls this with a
 * factory that opens a fresh, empty store of that engine.
 */
export function storeContract(engine: string, openStore: () => Promise<Store>): void {
  describe(`store contract: ${engine}`, () => {
    let store: Store;
    let seq = 0;
    beforeEach(async () => {
      store = await openStore();
      return () => store.close();
    });

    const user = (overrides: Partial<UserRecord> = {}): UserRecord => ({
      id: `u${++seq}`,
      email: `u${seq}@example.com`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      roles: ['reader'],
      lockedAt: null,
      createdAt: 1_000 + seq,
      updatedAt: 1_000 + seq,
      ...overrides,
    });
    const session = (userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      id: `s${++seq}`,
      userId,
      secretHash: 'ab'.repeat(32),
      createdAt: 10_000 + seq,
      lastSeenAt: 10_000 + seq,
      expiresAt: 50_000,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      ...overrides,
    });

    it('answers ping and names its engine', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(store.engine).toBe(engine);
    });

    it('stores users and finds them by id and email, with every field intact', async () => {
      const alice = user({ roles: ['admin', 'reader'], lockedAt: 1234 });
      await store.createUser(alice);
      expect(await store.findUserById(alice.id)).toEqual(alice);
      expect(await store.findUserByEmail(alice.email)).toEqual(alice);
      expect(await store.findUserByEmail('nobody@example.com')).toBeUndefined();
      expect(await store.findUserById('missing')).toBeUndefined();
    });

    it('refuses a second user with the same email', async () => {
      const first = user();
      await store.createUser(first);
      await expect(store.createUser(user({ email: first.email }))).rejects.toBeInstanceOf(EmailTakenError);
      expect(await store.listUsers()).toHaveLength(1);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      const alice = user();
      await store.createUser(alice);
      const found = (await store.findUserById(alice.id)) as UserRecord;
      found.roles.push('admin');
      expect((await store.findUserById(alice.id))?.roles).toEqual(['reader']);
    });

    it('updates a password hash', async () => {
      const alice = user();
      await store.createUser(alice);
      await store.setPasswordHash(alice.id, 'new-hash', 99_999);
      expect(await store.findUserById(alice.id)).toMatchObject({
        passwordHash: 'new-hash',
        updatedAt: 99_999,
      });
    });

    it('lists users oldest first', async () => {
      const [a, b] = [user({ createdAt: 2 }), user({ createdAt: 1 })];
      await store.createUser(a);
      await store.createUser(b);
      expect((await store.listUsers()).map((u) => u.id)).toEqual([b.id, a.id]);
    });

    it('creates, finds, touches, re-keys and deletes a session', async () => {
      const alice = user();
      await store.createUser(alice);
      const s = session(alice.id);
      await store.createSession(s);
      expect(await store.findSession(s.id)).toEqual(s);
      await store.touchSession(s.id, 20_000);
      await store.setSessionSecret(s.id, 'cd'.repeat(32));
      expect(await store.findSession(s.id)).toEqual({
        ...s,
        lastSeenAt: 20_000,
        secretHash: 'cd'.repeat(32),
      });
      expect(await store.deleteSession(s.id)).toBe(true);
      expect(await store.deleteSession(s.id)).toBe(false);
      expect(await store.findSession(s.id)).toBeUndefined();
    });

    it("deletes all of one user's sessions, optionally keeping one, and no one else's", async () => {
      const [alice, bob] = [user(), user()];
      await store.createUser(alice);
      await store.createUser(bob);
      const [a1, a2, a3, b1] = [session(alice.id), session(alice.id), session(alice.id), session(bob.id)];
      for (const s of [a1, a2, a3, b1]) await store.createSession(s);
      expect(await store.deleteUserSessions(alice.id, a2.id)).toBe(2);
      expect((await store.listUserSessions(alice.id)).map((s) => s.id)).toEqual([a2.id]);
      expect(await store.deleteUserSessions(alice.id)).toBe(1);
      expect(await store.listUserSessions(alice.id)).toEqual([]);
      expect(await store.findSession(b1.id)).toEqual(b1);
    });

    it('lists sessions newest first, per user and overall', async () => {
      const [alice, bob] = [user(), user()];
      await store.createUser(alice);
      await store.createUser(bob);
      const older = session(alice.id, { createdAt: 1 });
      const newer = session(alice.id, { createdAt: 2 });
      const bobs = session(bob.id, { createdAt: 3 });
      for (const s of [older, newer, bobs]) await store.createSession(s);
      expect((await store.listUserSessions(alice.id)).map((s) => s.id)).toEqual([newer.id, older.id]);
      expect((await store.listSessions()).map((s) => s.id)).toEqual([bobs.id, newer.id, older.id]);
    });

    it('sweeps sessions past absolute expiry or idle cutoff, keeping live ones', async () => {
      const alice = user();
      await store.createUser(alice);
      const live = session(alice.id, { lastSeenAt: 900, expiresAt: 2_000 });
      const absoluteExpired = session(alice.id, { lastSeenAt: 900, expiresAt: 1_000 });
      const idle = session(alice.id, { lastSeenAt: 500, expiresAt: 2_000 });
      for (const s of [live, absoluteExpired, idle]) await store.createSession(s);
      expect(await store.deleteExpiredSessions(1_000, 500)).toBe(2);
      expect((await store.listSessions()).map((s) => s.id)).toEqual([live.id]);
    });
  });
}
