import { beforeEach, describe, expect, it } from 'vitest';
import { openMfaStores } from '../../src/store/mfa-stores.js';
import {
  type ApiKeyRecord,
  type AuditEvent,
  type AuthorizationCodeRecord,
  EmailTakenError,
  LastAdminError,
  type OAuthClientRecord,
  type RefreshTokenRecord,
  type SessionRecord,
  type StoredSigningKey,
  type Stores,
  type UserRecord,
} from '../../src/store/ports/index.js';

/**
 * The behaviour every store engine must have. Each engine's test file calls this with a
 * factory that opens a fresh, empty store of that engine.
 */
export function storeContract(engine: string, openStores: () => Promise<Stores>): void {
  describe(`store contract: ${engine}`, () => {
    let stores: Stores;
    let seq = 0;
    beforeEach(async () => {
      stores = await openStores();
      return () => stores.close();
    });

    const user = (overrides: Partial<UserRecord> = {}): UserRecord => ({
      id: `u${++seq}`,
      email: `U${seq}@Example.com`,
      emailKey: `u${seq}@example.com`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      roles: ['reader'],
      lockedAt: null,
      lockReason: null,
      createdAt: 1_000 + seq,
      updatedAt: 1_000 + seq,
      ...overrides,
    });
    const session = (userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      id: `s${++seq}`,
      userId,
      mode: 'session',
      secretHash: 'ab'.repeat(32),
      createdAt: 10_000 + seq,
      lastSeenAt: 10_000 + seq,
      expiresAt: 50_000,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      authTime: 10_000 + seq,
      amr: ['pwd'],
      acr: 'aal1',
      ...overrides,
    });
    const refreshToken = (
      sessionId: string,
      overrides: Partial<RefreshTokenRecord> = {},
    ): RefreshTokenRecord => ({
      id: `r${++seq}`,
      sessionId,
      secretHash: 'ef'.repeat(32),
      createdAt: 10_000 + seq,
      retiredAt: null,
      successor: null,
      ...overrides,
    });
    const signingKey = (overrides: Partial<StoredSigningKey> = {}): StoredSigningKey => ({
      kid: `k${++seq}`,
      alg: 'EdDSA',
      status: 'active',
      createdAt: 1_000 + seq,
      retiredAt: null,
      publicJwk: JSON.stringify({
        kty: 'OKP',
        crv: 'Ed25519',
        x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      }),
      privateKeyEncrypted: 'v1.bm9uY2U.c2VhbGVk',
      ...overrides,
    });
    const auditEvent = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
      id: `e${++seq}`,
      at: 1_000 + seq,
      type: 'login.success',
      actorId: 'u1',
      userId: 'u1',
      sessionId: 's1',
      ip: '203.0.113.7',
      userAgent: 'curl/8.5.0',
      detail: '{}',
      ...overrides,
    });
    /** Stores a fresh user. */
    const storedUser = async (): Promise<UserRecord> => {
      const u = user();
      await stores.users.createUser(u);
      return u;
    };
    /** Stores a jwt-mode session (a refresh-token family) of the user. */
    const storedFamily = async (
      userId: string,
      overrides: Partial<SessionRecord> = {},
    ): Promise<SessionRecord> => {
      const s = session(userId, { mode: 'jwt', secretHash: '', ...overrides });
      await stores.sessions.createSession(s);
      return s;
    };
    /** Stores a refresh token of the family. */
    const storedRefreshToken = async (
      sessionId: string,
      overrides: Partial<RefreshTokenRecord> = {},
    ): Promise<RefreshTokenRecord> => {
      const t = refreshToken(sessionId, overrides);
      await stores.refreshTokens.createRefreshToken(t);
      return t;
    };

    it('answers ping and names its engine', async () => {
      await expect(stores.ping()).resolves.toBeUndefined();
      expect(stores.engine).toBe(engine);
    });

    describe('users', () => {
      it('pages users by canonical email key, each exactly once, and searches by key prefix (LIKE wildcards literal)', async () => {
        const keys = [
          'bob@x.test',
          'ann@x.test',
          'an_d@x.test',
          'anna@x.test',
          'an%e@x.test',
          'andy@y.test',
          'zed@x.test',
        ];
        for (const emailKey of keys) await stores.users.createUser(user({ emailKey, email: emailKey }));
        const walk = async (emailKeyPrefix?: string) => {
          const seen: string[] = [];
          let afterEmailKey: string | undefined;
          for (let pages = 0; pages < 20; pages++) {
            const page = await stores.users.listUsersPage({ afterEmailKey, limit: 2, emailKeyPrefix });
            seen.push(...page.map((u) => u.emailKey));
            if (page.length < 2) return seen;
            afterEmailKey = page.at(-1)?.emailKey;
          }
          throw new Error('paging did not end');
        };
        const sorted = [...keys].sort();
        expect(await walk()).toEqual(sorted);
        expect(await walk('an')).toEqual(sorted.filter((k) => k.startsWith('an')));
        expect(await walk('an_')).toEqual(['an_d@x.test']);
        expect(await walk('an%')).toEqual(['an%e@x.test']);
        expect(await walk('ann')).toEqual(['ann@x.test', 'anna@x.test']);
        expect(await walk('q')).toEqual([]);
        const [first] = await stores.users.listUsersPage({ limit: 1, emailKeyPrefix: 'z' });
        expect(first?.emailKey).toBe('zed@x.test');
      });

      it('stores users and finds them by id and canonical email key, with every field intact', async () => {
        const alice = user({ roles: ['admin', 'reader'], lockedAt: 1234 });
        await stores.users.createUser(alice);
        expect(await stores.users.findUserById(alice.id)).toEqual(alice);
        expect(await stores.users.findUserByEmailKey(alice.emailKey)).toEqual(alice);
        // The key, not the display form, is what is looked up.
        expect(await stores.users.findUserByEmailKey(alice.email)).toBeUndefined();
        expect(await stores.users.findUserByEmailKey('nobody@example.com')).toBeUndefined();
        expect(await stores.users.findUserById('missing')).toBeUndefined();
      });

      it('refuses a second user with the same email key, whatever its display form', async () => {
        const first = user();
        await stores.users.createUser(first);
        await expect(
          stores.users.createUser(user({ email: first.email.toLowerCase(), emailKey: first.emailKey })),
        ).rejects.toBeInstanceOf(EmailTakenError);
        expect(await stores.users.listUsers()).toHaveLength(1);
      });

      it('returns copies: mutating a result does not change the store', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const found = (await stores.users.findUserById(alice.id)) as UserRecord;
        found.roles.push('admin');
        expect((await stores.users.findUserById(alice.id))?.roles).toEqual(['reader']);
      });

      it('updates a password hash', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        await stores.users.setPasswordHash(alice.id, 'new-hash', 99_999);
        expect(await stores.users.findUserById(alice.id)).toMatchObject({
          passwordHash: 'new-hash',
          updatedAt: 99_999,
        });
      });

      it('lists users oldest first', async () => {
        const [a, b] = [user({ createdAt: 2 }), user({ createdAt: 1 })];
        await stores.users.createUser(a);
        await stores.users.createUser(b);
        expect((await stores.users.listUsers()).map((u) => u.id)).toEqual([b.id, a.id]);
      });

      it('changes roles and locks and unlocks accounts, with the reason', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        await stores.users.setUserRoles(alice.id, ['admin', 'teller'], 5_000);
        await stores.users.setUserLock(alice.id, 6_000, 'card reported stolen', 6_000);
        expect(await stores.users.findUserById(alice.id)).toMatchObject({
          roles: ['admin', 'teller'],
          lockedAt: 6_000,
          lockReason: 'card reported stolen',
          updatedAt: 6_000,
        });
        await stores.users.setUserLock(alice.id, null, null, 7_000);
        expect(await stores.users.findUserById(alice.id)).toMatchObject({ lockedAt: null, lockReason: null });
      });
    });

    describe('sessions', () => {
      it('creates, finds, touches, re-keys and deletes a session', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const s = session(alice.id);
        await stores.sessions.createSession(s);
        expect(await stores.sessions.findSession(s.id)).toEqual(s);
        await stores.sessions.touchSession(s.id, 20_000);
        await stores.sessions.setSessionSecret(s.id, 'cd'.repeat(32));
        expect(await stores.sessions.findSession(s.id)).toEqual({
          ...s,
          lastSeenAt: 20_000,
          secretHash: 'cd'.repeat(32),
        });
        expect(await stores.sessions.deleteSession(s.id)).toBe(true);
        expect(await stores.sessions.deleteSession(s.id)).toBe(false);
        expect(await stores.sessions.findSession(s.id)).toBeUndefined();
      });

      it("records a login's authentication context and replaces it on a fresh proof, touching nothing else", async () => {
        const alice = await storedUser();
        const s = session(alice.id, { authTime: 12_345, amr: ['mfa', 'otp', 'pwd'], acr: 'aal2' });
        const other = session(alice.id);
        await stores.sessions.createSession(s);
        await stores.sessions.createSession(other);
        expect(await stores.sessions.findSession(s.id)).toEqual(s);
        expect((await stores.sessions.findSessionWithUser(s.id))?.session).toEqual(s);
        const proof = { authTime: 99_000, amr: ['hwk'], acr: 'aal2' };
        expect(await stores.sessions.setSessionAuthContext(s.id, proof)).toBe(true);
        expect(await stores.sessions.findSession(s.id)).toEqual({ ...s, ...proof });
        expect((await stores.sessions.findSessionWithUser(s.id))?.session).toEqual({ ...s, ...proof });
        expect(await stores.sessions.findSession(other.id)).toEqual(other);
        // The stored list is a copy: changing the argument afterwards changes nothing.
        proof.amr.push('pwd');
        expect((await stores.sessions.findSession(s.id))?.amr).toEqual(['hwk']);
        expect(await stores.sessions.setSessionAuthContext('no-such-session', proof)).toBe(false);
      });

      it('pages sessions newest first by (createdAt, id), each exactly once, with owner emails, filtered by user', async () => {
        const alice = await storedUser();
        const bob = await storedUser();
        // Ties on createdAt: the id breaks them, so no page boundary drops or repeats a row.
        const created = [5, 5, 5, 3, 9, 3, 1, 5];
        const all: SessionRecord[] = created.map((createdAt, i) =>
          session(i % 3 === 0 ? bob.id : alice.id, { createdAt, lastSeenAt: createdAt }),
        );
        for (const s of all) await stores.sessions.createSession(s);
        const newestFirst = (list: SessionRecord[]) =>
          [...list].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
        const walk = async (userId?: string) => {
          const seen: { id: string; email: string | null }[] = [];
          let after: { createdAt: number; id: string } | undefined;
          for (let pages = 0; pages < 20; pages++) {
            const page = await stores.sessions.listSessionsPage({ after, limit: 3, userId });
            expect(page.length).toBeLessThanOrEqual(3);
            seen.push(...page.map((row) => ({ id: row.session.id, email: row.email })));
            const last = page.at(-1)?.session;
            if (page.length < 3 || !last) return seen;
            after = { createdAt: last.createdAt, id: last.id };
          }
          throw new Error('paging did not end');
        };
        const emailOf = (s: SessionRecord) => (s.userId === bob.id ? bob.email : alice.email);
        expect(await walk()).toEqual(newestFirst(all).map((s) => ({ id: s.id, email: emailOf(s) })));
        expect(await walk(alice.id)).toEqual(
          newestFirst(all.filter((s) => s.userId === alice.id)).map((s) => ({
            id: s.id,
            email: alice.email,
          })),
        );
        const [first] = await stores.sessions.listSessionsPage({ limit: 1 });
        expect(first?.session).toEqual(newestFirst(all)[0]);
        expect(await stores.sessions.listSessionsPage({ limit: 5, userId: 'nobody' })).toEqual([]);
      });

      it('finds a session with its owner in one read, every field of both intact, and copies', async () => {
        const alice = user({ roles: ['teller', 'auditor'], lockedAt: 7_000, lockReason: 'fraud review' });
        const bob = user();
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const oauth = { clientId: 'c1', scopes: ['accounts:read'], audience: 'https://api.example' };
        const plain = session(alice.id);
        const delegated = session(alice.id, { mode: 'oauth', secretHash: '', oauth });
        const bobs = session(bob.id);
        for (const s of [plain, delegated, bobs]) await stores.sessions.createSession(s);
        expect(await stores.sessions.findSessionWithUser(plain.id)).toEqual({ session: plain, user: alice });
        expect(await stores.sessions.findSessionWithUser(delegated.id)).toEqual({
          session: delegated,
          user: alice,
        });
        expect(await stores.sessions.findSessionWithUser(bobs.id)).toEqual({ session: bobs, user: bob });
        const found = await stores.sessions.findSessionWithUser(plain.id);
        found?.user.roles.push('admin');
        if (found) found.session.lastSeenAt = 1;
        expect(await stores.sessions.findSessionWithUser(plain.id)).toEqual({ session: plain, user: alice });
        // A change to either record shows on the next read.
        await stores.users.setUserRoles(alice.id, ['admin'], 8_000);
        await stores.sessions.touchSession(plain.id, 20_000);
        expect(await stores.sessions.findSessionWithUser(plain.id)).toEqual({
          session: { ...plain, lastSeenAt: 20_000 },
          user: { ...alice, roles: ['admin'], updatedAt: 8_000 },
        });
        await stores.sessions.deleteSession(plain.id);
        expect(await stores.sessions.findSessionWithUser(plain.id)).toBeUndefined();
        expect(await stores.sessions.findSessionWithUser('no-such-session')).toBeUndefined();
      });

      it("deletes all of one user's sessions, optionally keeping one, and no one else's", async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const [a1, a2, a3, b1] = [session(alice.id), session(alice.id), session(alice.id), session(bob.id)];
        for (const s of [a1, a2, a3, b1]) await stores.sessions.createSession(s);
        expect(await stores.sessions.deleteUserSessions(alice.id, a2.id)).toBe(2);
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id)).toEqual([a2.id]);
        expect(await stores.sessions.deleteUserSessions(alice.id)).toBe(1);
        expect(await stores.sessions.listUserSessions(alice.id)).toEqual([]);
        expect(await stores.sessions.findSession(b1.id)).toEqual(b1);
      });

      it('lists sessions newest first, per user and overall', async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const older = session(alice.id, { createdAt: 1 });
        const newer = session(alice.id, { createdAt: 2 });
        const bobs = session(bob.id, { createdAt: 3 });
        for (const s of [older, newer, bobs]) await stores.sessions.createSession(s);
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id)).toEqual([
          newer.id,
          older.id,
        ]);
        expect((await stores.sessions.listSessions()).map((s) => s.id)).toEqual([
          bobs.id,
          newer.id,
          older.id,
        ]);
      });

      it('sweeps sessions past absolute expiry or idle cutoff, keeping live ones', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const live = session(alice.id, { lastSeenAt: 900, expiresAt: 2_000 });
        const absoluteExpired = session(alice.id, { lastSeenAt: 900, expiresAt: 1_000 });
        const idle = session(alice.id, { lastSeenAt: 500, expiresAt: 2_000 });
        for (const s of [live, absoluteExpired, idle]) await stores.sessions.createSession(s);
        expect(await stores.sessions.deleteExpiredSessions(1_000, 500)).toBe(2);
        expect((await stores.sessions.listSessions()).map((s) => s.id)).toEqual([live.id]);
      });

      it("round-trips a session's mode", async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const plain = session(alice.id, { mode: 'session' });
        const jwt = session(alice.id, { mode: 'jwt', secretHash: '' });
        for (const s of [plain, jwt]) await stores.sessions.createSession(s);
        expect(await stores.sessions.findSession(plain.id)).toEqual(plain);
        expect(await stores.sessions.findSession(jwt.id)).toEqual(jwt);
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.mode)).toEqual([
          'jwt',
          'session',
        ]);
        expect((await stores.sessions.listSessions()).map((s) => s.mode)).toEqual(['jwt', 'session']);
      });

      it('deletes every session of every user, with their refresh tokens', async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const [a, b] = [session(alice.id, { mode: 'jwt' }), session(bob.id)];
        await stores.sessions.createSession(a);
        await stores.sessions.createSession(b);
        await stores.refreshTokens.createRefreshToken({
          id: 'rt-all',
          sessionId: a.id,
          secretHash: 'ef'.repeat(32),
          createdAt: 1,
          retiredAt: null,
          successor: null,
        });
        expect(await stores.sessions.deleteAllSessions()).toBe(2);
        expect(await stores.sessions.listSessions()).toEqual([]);
        expect(await stores.refreshTokens.findRefreshToken('rt-all')).toBeUndefined();
        expect(await stores.users.findUserById(alice.id)).toBeDefined();
      });
    });

    describe('refresh tokens', () => {
      it('creates and finds a refresh token with every field intact, and returns copies', async () => {
        const fam = await storedFamily((await storedUser()).id);
        const live = await storedRefreshToken(fam.id);
        const retired = await storedRefreshToken(fam.id, { retiredAt: 12_345 });
        expect(await stores.refreshTokens.findRefreshToken(live.id)).toEqual(live);
        expect(await stores.refreshTokens.findRefreshToken(retired.id)).toEqual(retired);
        expect(await stores.refreshTokens.findRefreshToken('missing')).toBeUndefined();
        const found = (await stores.refreshTokens.findRefreshToken(live.id)) as RefreshTokenRecord;
        found.retiredAt = 1;
        expect((await stores.refreshTokens.findRefreshToken(live.id))?.retiredAt).toBeNull();
      });

      it('refuses a refresh token whose session does not exist, or whose id is taken', async () => {
        const fam = await storedFamily((await storedUser()).id);
        await expect(
          stores.refreshTokens.createRefreshToken(refreshToken('no-such-session')),
        ).rejects.toThrow();
        const token = await storedRefreshToken(fam.id);
        await expect(
          stores.refreshTokens.createRefreshToken({ ...token, secretHash: '00'.repeat(32) }),
        ).rejects.toThrow();
        expect(await stores.refreshTokens.findRefreshToken(token.id)).toEqual(token);
      });

      it('retires a live token exactly once (rotation is the compare-and-set)', async () => {
        const fam = await storedFamily((await storedUser()).id);
        const token = await storedRefreshToken(fam.id);
        const rotate = (id: string, createdAt: number) =>
          stores.refreshTokens.rotateRefreshToken(
            id,
            refreshToken(fam.id, { createdAt }),
            `sealed-${createdAt}`,
          );
        expect(await rotate(token.id, 20_000)).toBe(true);
        expect(await stores.refreshTokens.findRefreshToken(token.id)).toEqual({
          ...token,
          retiredAt: 20_000,
          successor: 'sealed-20000',
        });
        expect(await rotate(token.id, 30_000)).toBe(false);
        expect((await stores.refreshTokens.findRefreshToken(token.id))?.retiredAt).toBe(20_000);
        expect(await rotate('missing', 20_000)).toBe(false);
      });

      it('lets only one of many racing retirements win', async () => {
        const fam = await storedFamily((await storedUser()).id);
        const token = await storedRefreshToken(fam.id);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            stores.refreshTokens.rotateRefreshToken(
              token.id,
              refreshToken(fam.id, { createdAt: 20_000 + i }),
              `sealed-${i}`,
            ),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await stores.refreshTokens.findRefreshToken(token.id)).toMatchObject({
          retiredAt: 20_000 + results.indexOf(true),
          successor: `sealed-${results.indexOf(true)}`,
        });
      });

      it("retires the rest of a family, keeping the named token and other families' tokens", async () => {
        const alice = await storedUser();
        const [mine, other] = [await storedFamily(alice.id), await storedFamily(alice.id)];
        const keep = await storedRefreshToken(mine.id);
        const live = await storedRefreshToken(mine.id);
        const alreadyRetired = await storedRefreshToken(mine.id, { retiredAt: 15_000 });
        const exchanged = await storedRefreshToken(mine.id, { retiredAt: 16_000, successor: 'sealed' });
        const neighbour = await storedRefreshToken(other.id);
        await stores.refreshTokens.retireOtherRefreshTokens(mine.id, keep.id, 20_000);
        // No grace for anything of the family: its sealed successor goes too.
        expect(await stores.refreshTokens.findRefreshToken(exchanged.id)).toEqual({
          ...exchanged,
          successor: null,
        });
        expect(await stores.refreshTokens.findRefreshToken(keep.id)).toEqual(keep);
        expect(await stores.refreshTokens.findRefreshToken(live.id)).toEqual({ ...live, retiredAt: 20_000 });
        expect(await stores.refreshTokens.findRefreshToken(alreadyRetired.id)).toEqual(alreadyRetired);
        expect(await stores.refreshTokens.findRefreshToken(neighbour.id)).toEqual(neighbour);
      });

      it("deleteSession deletes the family's refresh tokens, and only them", async () => {
        const alice = await storedUser();
        const [doomed, other] = [await storedFamily(alice.id), await storedFamily(alice.id)];
        const gone = await storedRefreshToken(doomed.id);
        const goneRetired = await storedRefreshToken(doomed.id, { retiredAt: 15_000 });
        const kept = await storedRefreshToken(other.id);
        expect(await stores.sessions.deleteSession(doomed.id)).toBe(true);
        expect(await stores.refreshTokens.findRefreshToken(gone.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(goneRetired.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(kept.id)).toEqual(kept);
        const after = refreshToken(doomed.id, { createdAt: 20_000 });
        expect(await stores.refreshTokens.rotateRefreshToken(gone.id, after, 'sealed')).toBe(false);
      });

      it("deleteUserSessions deletes the families' refresh tokens, except the kept session's", async () => {
        const [alice, bob] = [await storedUser(), await storedUser()];
        const [a1, a2, a3] = [
          await storedFamily(alice.id),
          await storedFamily(alice.id),
          await storedFamily(alice.id),
        ];
        const [t1, t2, t3] = [
          await storedRefreshToken(a1.id),
          await storedRefreshToken(a2.id),
          await storedRefreshToken(a3.id),
        ];
        const bobs = await storedRefreshToken((await storedFamily(bob.id)).id);
        expect(await stores.sessions.deleteUserSessions(alice.id, a3.id)).toBe(2);
        expect(await stores.refreshTokens.findRefreshToken(t1.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(t2.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(t3.id)).toEqual(t3);
        expect(await stores.sessions.deleteUserSessions(alice.id)).toBe(1);
        expect(await stores.refreshTokens.findRefreshToken(t3.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(bobs.id)).toEqual(bobs);
      });

      it("deleteExpiredSessions deletes the swept families' refresh tokens", async () => {
        const alice = await storedUser();
        const live = await storedFamily(alice.id, { lastSeenAt: 900, expiresAt: 2_000 });
        const absoluteExpired = await storedFamily(alice.id, { lastSeenAt: 900, expiresAt: 1_000 });
        const idle = await storedFamily(alice.id, { lastSeenAt: 500, expiresAt: 2_000 });
        const [tLive, tExpired, tIdle] = [
          await storedRefreshToken(live.id),
          await storedRefreshToken(absoluteExpired.id),
          await storedRefreshToken(idle.id),
        ];
        expect(await stores.sessions.deleteExpiredSessions(1_000, 500)).toBe(2);
        expect(await stores.refreshTokens.findRefreshToken(tLive.id)).toEqual(tLive);
        expect(await stores.refreshTokens.findRefreshToken(tExpired.id)).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken(tIdle.id)).toBeUndefined();
      });

      it('rotates a refresh token all or nothing: old and siblings retired, next stored; never twice', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const family = session(alice.id, { mode: 'jwt' });
        const other = session(alice.id, { mode: 'jwt' });
        await stores.sessions.createSession(family);
        await stores.sessions.createSession(other);
        const rt = (id: string, sessionId = family.id) => ({
          id,
          sessionId,
          secretHash: 'ab'.repeat(32),
          createdAt: 100,
          retiredAt: null,
          successor: null,
        });
        await stores.refreshTokens.createRefreshToken(rt('rt-old'));
        await stores.refreshTokens.createRefreshToken(rt('rt-sibling'));
        await stores.refreshTokens.createRefreshToken(rt('rt-elsewhere', other.id));
        const next = { ...rt('rt-next'), createdAt: 200 };
        expect(await stores.refreshTokens.rotateRefreshToken('rt-old', next, 'sealed-next')).toBe(true);
        // The exchanged token records its successor; a superseded sibling gets none (no grace).
        expect(await stores.refreshTokens.findRefreshToken('rt-old')).toMatchObject({
          retiredAt: 200,
          successor: 'sealed-next',
        });
        expect(await stores.refreshTokens.findRefreshToken('rt-sibling')).toMatchObject({
          retiredAt: 200,
          successor: null,
        });
        expect(await stores.refreshTokens.findRefreshToken('rt-next')).toMatchObject({ retiredAt: null });
        expect(await stores.refreshTokens.findRefreshToken('rt-elsewhere')).toMatchObject({
          retiredAt: null,
        });
        // The same token again (a replay or a racing request) changes nothing.
        expect(
          await stores.refreshTokens.rotateRefreshToken(
            'rt-old',
            { ...rt('rt-next-2'), createdAt: 300 },
            'sealed-2',
          ),
        ).toBe(false);
        expect(await stores.refreshTokens.findRefreshToken('rt-next-2')).toBeUndefined();
        expect(await stores.refreshTokens.findRefreshToken('rt-next')).toMatchObject({ retiredAt: null });
        expect(await stores.refreshTokens.findRefreshToken('rt-old')).toMatchObject({
          successor: 'sealed-next',
        });
        // The next rotation leaves a sealed successor on the token it exchanges only.
        const third = { ...rt('rt-third'), createdAt: 400 };
        expect(await stores.refreshTokens.rotateRefreshToken('rt-next', third, 'sealed-third')).toBe(true);
        expect(await stores.refreshTokens.findRefreshToken('rt-old')).toMatchObject({ successor: null });
        expect(await stores.refreshTokens.findRefreshToken('rt-next')).toMatchObject({
          retiredAt: 400,
          successor: 'sealed-third',
        });
      });
    });

    describe('signing keys', () => {
      it('creates and lists keys oldest first, with every field intact', async () => {
        const newer = signingKey({ createdAt: 3, status: 'next' });
        const hmac = signingKey({
          createdAt: 1,
          alg: 'HS256',
          status: 'retired',
          retiredAt: 2,
          publicJwk: null,
        });
        const active = signingKey({ createdAt: 2, alg: 'ES256' });
        for (const k of [newer, hmac, active]) await stores.signingKeys.createSigningKey(k);
        expect(await stores.signingKeys.listSigningKeys()).toEqual([hmac, active, newer]);
      });

      it('refuses a second key with the same kid', async () => {
        const key = signingKey();
        await stores.signingKeys.createSigningKey(key);
        await expect(stores.signingKeys.createSigningKey({ ...key, alg: 'RS256' })).rejects.toThrow();
        expect(await stores.signingKeys.listSigningKeys()).toEqual([key]);
      });

      it('returns copies: mutating a listed key does not change the store', async () => {
        const key = signingKey();
        await stores.signingKeys.createSigningKey(key);
        const [listed] = await stores.signingKeys.listSigningKeys();
        (listed as StoredSigningKey).status = 'retired';
        expect(await stores.signingKeys.listSigningKeys()).toEqual([key]);
      });

      it("updates a key's status and retirement time, touching no other key", async () => {
        const [next, active] = [signingKey({ status: 'next' }), signingKey({ status: 'active' })];
        for (const k of [next, active]) await stores.signingKeys.createSigningKey(k);
        await stores.signingKeys.updateSigningKeyStatus(active.kid, 'retired', 50_000);
        await stores.signingKeys.updateSigningKeyStatus(next.kid, 'active', null);
        await stores.signingKeys.updateSigningKeyStatus('missing', 'retired', 1);
        expect(await stores.signingKeys.listSigningKeys()).toEqual([
          { ...next, status: 'active', retiredAt: null },
          { ...active, status: 'retired', retiredAt: 50_000 },
        ]);
      });

      it('deletes a key once', async () => {
        const [gone, kept] = [signingKey(), signingKey()];
        for (const k of [gone, kept]) await stores.signingKeys.createSigningKey(k);
        expect(await stores.signingKeys.deleteSigningKey(gone.kid)).toBe(true);
        expect(await stores.signingKeys.deleteSigningKey(gone.kid)).toBe(false);
        expect(await stores.signingKeys.listSigningKeys()).toEqual([kept]);
      });
    });

    describe('second factors (openMfaStores)', () => {
      it('keeps a pending TOTP factor, confirms it once, refuses a pending one over a confirmed one', async () => {
        const { factors } = openMfaStores(stores);
        const alice = await storedUser();
        const pending = {
          userId: alice.id,
          secretSealed: 'v1.a.b.c',
          createdAt: 5,
          confirmedAt: null,
          lastUsedStep: null,
        };
        expect(await factors.findTotp(alice.id)).toBeUndefined();
        expect(await factors.savePendingTotp(pending)).toBe(true);
        // A restarted enrolment replaces the pending secret.
        expect(await factors.savePendingTotp({ ...pending, secretSealed: 'v1.d.e.f', createdAt: 6 })).toBe(
          true,
        );
        expect(await factors.findTotp(alice.id)).toEqual({
          ...pending,
          secretSealed: 'v1.d.e.f',
          createdAt: 6,
        });
        expect(await factors.useTotpStep(alice.id, 100)).toBe(false); // not confirmed yet
        expect(await factors.confirmTotp(alice.id, 7, 99)).toBe(true);
        expect(await factors.confirmTotp(alice.id, 8, 100)).toBe(false);
        expect(await factors.savePendingTotp(pending)).toBe(false);
        expect(await factors.findTotp(alice.id)).toMatchObject({ confirmedAt: 7, lastUsedStep: 99 });
        expect(await factors.deleteTotp(alice.id)).toBe(true);
        expect(await factors.deleteTotp(alice.id)).toBe(false);
      });

      it('accepts each time step at most once and never an older one, even racing (replay)', async () => {
        const { factors } = openMfaStores(stores);
        const alice = await storedUser();
        await factors.savePendingTotp({
          userId: alice.id,
          secretSealed: 's',
          createdAt: 1,
          confirmedAt: null,
          lastUsedStep: null,
        });
        await factors.confirmTotp(alice.id, 2, 1000);
        expect(await factors.useTotpStep(alice.id, 1000)).toBe(false);
        expect(await factors.useTotpStep(alice.id, 999)).toBe(false);
        const racing = await Promise.all(
          Array.from({ length: 8 }, () => factors.useTotpStep(alice.id, 1001)),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await factors.useTotpStep(alice.id, 1003)).toBe(true);
        expect(await factors.useTotpStep(alice.id, 1002)).toBe(false);
      });

      it('replaces recovery codes, uses each once (one of racing uses wins), lists and deletes them', async () => {
        const { factors } = openMfaStores(stores);
        const [alice, bob] = [await storedUser(), await storedUser()];
        await factors.replaceRecoveryCodes(alice.id, ['h1', 'h2', 'h3'], 10);
        await factors.replaceRecoveryCodes(bob.id, ['h1'], 10);
        const racing = await Promise.all(
          Array.from({ length: 6 }, () => factors.useRecoveryCode(alice.id, 'h2', 11)),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await factors.useRecoveryCode(alice.id, 'nope', 11)).toBe(false);
        expect(await factors.listRecoveryCodes(alice.id)).toEqual([
          { userId: alice.id, codeHash: 'h1', createdAt: 10, usedAt: null },
          { userId: alice.id, codeHash: 'h2', createdAt: 10, usedAt: 11 },
          { userId: alice.id, codeHash: 'h3', createdAt: 10, usedAt: null },
        ]);
        await factors.replaceRecoveryCodes(alice.id, ['h9'], 12);
        expect(await factors.useRecoveryCode(alice.id, 'h1', 13)).toBe(false);
        expect((await factors.listRecoveryCodes(alice.id)).map((c) => c.codeHash)).toEqual(['h9']);
        expect(await factors.listRecoveryCodes(bob.id)).toHaveLength(1);
        expect(await factors.deleteRecoveryCodes(alice.id)).toBe(1);
        expect(await factors.listRecoveryCodes(alice.id)).toEqual([]);
      });

      it('counts attempts by compare-and-set: of racing attempts on one count, exactly one wins', async () => {
        const { factors } = openMfaStores(stores);
        const alice = await storedUser();
        expect(await factors.findMfaAttempts(alice.id)).toBeUndefined();
        const racing = await Promise.all(
          Array.from({ length: 5 }, () =>
            factors.swapMfaAttempts(alice.id, 0, { failures: 1, blockedUntil: 0 }),
          ),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await factors.swapMfaAttempts(alice.id, 0, { failures: 1, blockedUntil: 0 })).toBe(false);
        expect(await factors.swapMfaAttempts(alice.id, 1, { failures: 2, blockedUntil: 5_000 })).toBe(true);
        expect(await factors.findMfaAttempts(alice.id)).toEqual({
          userId: alice.id,
          failures: 2,
          blockedUntil: 5_000,
        });
      });

      it('keeps login challenges by id, takes each once, deletes by user and by expiry', async () => {
        const { challenges } = openMfaStores(stores);
        const [alice, bob] = [await storedUser(), await storedUser()];
        const challenge = (id: string, userId: string, expiresAt: number) => ({
          id,
          secretHash: 'ab'.repeat(32),
          userId,
          purpose: 'verify' as const,
          amr: ['pwd'],
          createdAt: 1,
          expiresAt,
        });
        await challenges.createMfaChallenge(challenge('c1', alice.id, 100));
        await challenges.createMfaChallenge({ ...challenge('c2', alice.id, 200), purpose: 'enrol' });
        await challenges.createMfaChallenge(challenge('c3', bob.id, 300));
        expect(await challenges.findMfaChallenge('c2')).toEqual({
          ...challenge('c2', alice.id, 200),
          purpose: 'enrol',
        });
        const racing = await Promise.all(
          Array.from({ length: 4 }, () => challenges.deleteMfaChallenge('c1')),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await challenges.deleteExpiredMfaChallenges(200)).toBe(1);
        expect(await challenges.findMfaChallenge('c3')).toBeDefined();
        expect(await challenges.deleteUserMfaChallenges(bob.id)).toBe(1);
        expect(await challenges.findMfaChallenge('c3')).toBeUndefined();
      });
    });

    describe('audit events', () => {
      it('appends events and lists them newest first, with every field intact', async () => {
        const first = auditEvent({ at: 1 });
        const third = auditEvent({
          at: 3,
          actorId: null,
          userId: null,
          sessionId: null,
          type: 'key.rotated',
        });
        const second = auditEvent({ at: 2, detail: JSON.stringify({ kid: 'k1', reason: 'scheduled' }) });
        for (const e of [first, third, second]) await stores.audit.appendAuditEvent(e);
        expect(await stores.audit.listAuditEvents({ limit: 10 })).toEqual([third, second, first]);
      });

      it('filters by user, by type, or both, and applies the limit after ordering', async () => {
        const e10 = auditEvent({ at: 10, userId: 'alice', type: 'login.success' });
        const e20 = auditEvent({ at: 20, userId: 'bob', type: 'login.success' });
        const e30 = auditEvent({ at: 30, userId: 'alice', type: 'login.failure' });
        const e40 = auditEvent({ at: 40, userId: 'alice', type: 'login.success' });
        const e50 = auditEvent({ at: 50, userId: null, type: 'login.success' });
        // Appended out of order, so insertion order cannot pass for time order.
        for (const e of [e30, e10, e50, e20, e40]) await stores.audit.appendAuditEvent(e);
        const ats = (list: AuditEvent[]) => list.map((e) => e.at);
        expect(ats(await stores.audit.listAuditEvents({ userId: 'alice', limit: 10 }))).toEqual([40, 30, 10]);
        expect(ats(await stores.audit.listAuditEvents({ type: 'login.success', limit: 10 }))).toEqual([
          50, 40, 20, 10,
        ]);
        expect(
          ats(await stores.audit.listAuditEvents({ userId: 'alice', type: 'login.success', limit: 10 })),
        ).toEqual([40, 10]);
        expect(ats(await stores.audit.listAuditEvents({ limit: 2 }))).toEqual([50, 40]);
        expect(ats(await stores.audit.listAuditEvents({ userId: 'alice', limit: 1 }))).toEqual([40]);
        expect(await stores.audit.listAuditEvents({ userId: 'nobody', limit: 10 })).toEqual([]);
      });

      it('pages events with a before cursor, each exactly once, newest first, filters kept', async () => {
        const ats = [7, 7, 3, 9, 7, 1, 3];
        const events = ats.map((at, i) => auditEvent({ at, userId: i % 2 ? 'alice' : 'bob' }));
        for (const e of events) await stores.audit.appendAuditEvent(e);
        const walk = async (userId?: string) => {
          const seen: string[] = [];
          let before: { at: number; id: string } | undefined;
          for (let pages = 0; pages < 20; pages++) {
            const page = await stores.audit.listAuditEvents({ limit: 2, before, userId });
            seen.push(...page.map((e) => e.id));
            const last = page.at(-1);
            if (page.length < 2 || !last) return seen;
            before = { at: last.at, id: last.id };
          }
          throw new Error('paging did not end');
        };
        const newestFirst = (list: AuditEvent[]) =>
          [...list].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((e) => e.id);
        expect(await walk()).toEqual(newestFirst(events));
        expect(await walk('alice')).toEqual(newestFirst(events.filter((e) => e.userId === 'alice')));
      });

      it('refuses a second event with the same id', async () => {
        const event = auditEvent();
        await stores.audit.appendAuditEvent(event);
        await expect(stores.audit.appendAuditEvent({ ...event, type: 'other' })).rejects.toThrow();
        expect(await stores.audit.listAuditEvents({ limit: 10 })).toEqual([event]);
      });

      it('deletes events strictly older than a cutoff and counts them', async () => {
        const events = [1, 2, 3, 4].map((at) => auditEvent({ at }));
        for (const e of events) await stores.audit.appendAuditEvent(e);
        expect(await stores.audit.deleteAuditEventsBefore(3)).toBe(2);
        expect((await stores.audit.listAuditEvents({ limit: 10 })).map((e) => e.at)).toEqual([4, 3]);
        expect(await stores.audit.deleteAuditEventsBefore(3)).toBe(0);
      });
    });

    describe('revocations', () => {
      it('appends revocations with increasing sequence numbers and lists those still in force', async () => {
        const a = await stores.revocations.appendRevocation({
          kind: 'session',
          subject: 's1',
          at: 100,
          expiresAt: 1_000,
        });
        const b = await stores.revocations.appendRevocation({
          kind: 'user',
          subject: 'u1',
          at: 200,
          expiresAt: 2_000,
        });
        const c = await stores.revocations.appendRevocation({
          kind: 'all',
          subject: '*',
          at: 300,
          expiresAt: 3_000,
        });
        expect(a.seq).toBeLessThan(b.seq);
        expect(b.seq).toBeLessThan(c.seq);
        expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([a, b, c]);
        expect(await stores.revocations.listRevocationsSince(a.seq, 0)).toEqual([b, c]);
        expect(await stores.revocations.listRevocationsSince(0, 1_500)).toEqual([b, c]);
        expect(await stores.revocations.deleteExpiredRevocations(2_000)).toBe(2);
        expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([c]);
        const d = await stores.revocations.appendRevocation({
          kind: 'session',
          subject: 's2',
          at: 400,
          expiresAt: 4_000,
        });
        expect(d.seq).toBeGreaterThan(c.seq);
      });
    });

    describe('oauth and api keys', () => {
      const client = (overrides: Partial<OAuthClientRecord> = {}): OAuthClientRecord => ({
        id: `c${++seq}`,
        name: 'Budget app',
        type: 'confidential',
        secretHash: '12'.repeat(32),
        redirectUris: ['https://app.example/callback', 'http://127.0.0.1:8080/cb'],
        scopes: ['accounts:read', 'profile'],
        grantTypes: ['authorization_code'],
        audience: 'https://api.example',
        createdAt: 1_000 + seq,
        ...overrides,
      });
      const code = (userId: string, clientId: string, overrides: Partial<AuthorizationCodeRecord> = {}) => ({
        id: `code${++seq}`,
        secretHash: '34'.repeat(32),
        clientId,
        userId,
        sessionId: `family${seq}`,
        authTime: 7,
        amr: ['otp', 'pwd'],
        redirectUri: 'https://app.example/callback',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        scopes: ['accounts:read'],
        audience: 'https://api.example',
        createdAt: 1_000,
        expiresAt: 61_000,
        usedAt: null,
        ...overrides,
      });
      const apiKey = (userId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id: `k${++seq}`,
        userId,
        name: 'nightly export',
        secretHash: '56'.repeat(32),
        scopes: ['accounts:read'],
        createdAt: 1_000 + seq,
        expiresAt: 9_000_000,
        lastUsedAt: null,
        revokedAt: null,
        ...overrides,
      });

      it('stores clients as given, lists them oldest first, deletes them with their grants and codes', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const [web, spa] = [
          client(),
          client({ type: 'public', secretHash: null, grantTypes: ['authorization_code'] }),
        ];
        await stores.oauthClients.createOAuthClient(web);
        await stores.oauthClients.createOAuthClient(spa);
        expect(await stores.oauthClients.findOAuthClient(web.id)).toEqual(web);
        expect(await stores.oauthClients.findOAuthClient('nope')).toBeUndefined();
        expect(await stores.oauthClients.listOAuthClients()).toEqual([web, spa]);
        await expect(stores.oauthClients.createOAuthClient(web)).rejects.toThrow();

        await stores.oauthGrants.saveOAuthGrant({
          userId: alice.id,
          clientId: web.id,
          scopes: ['profile'],
          createdAt: 5,
          lastUsedAt: 5,
        });
        const c = code(alice.id, web.id);
        await stores.authorizationCodes.createAuthorizationCode(c);
        expect(await stores.oauthClients.deleteOAuthClient(web.id)).toBe(true);
        expect(await stores.oauthClients.deleteOAuthClient(web.id)).toBe(false);
        expect(await stores.oauthGrants.findOAuthGrant(alice.id, web.id)).toBeUndefined();
        expect(await stores.authorizationCodes.findAuthorizationCode(c.id)).toBeUndefined();
        expect(await stores.oauthClients.listOAuthClients()).toEqual([spa]);
      });

      it('saves a grant once per user and client: a later save replaces scopes and last use, keeps createdAt', async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const [a, b] = [client(), client()];
        await stores.oauthClients.createOAuthClient(a);
        await stores.oauthClients.createOAuthClient(b);
        await stores.oauthGrants.saveOAuthGrant({
          userId: alice.id,
          clientId: a.id,
          scopes: ['profile'],
          createdAt: 10,
          lastUsedAt: 10,
        });
        await stores.oauthGrants.saveOAuthGrant({
          userId: alice.id,
          clientId: a.id,
          scopes: ['profile', 'accounts:read'],
          createdAt: 20,
          lastUsedAt: 20,
        });
        await stores.oauthGrants.saveOAuthGrant({
          userId: alice.id,
          clientId: b.id,
          scopes: ['profile'],
          createdAt: 15,
          lastUsedAt: 15,
        });
        await stores.oauthGrants.saveOAuthGrant({
          userId: bob.id,
          clientId: a.id,
          scopes: ['profile'],
          createdAt: 16,
          lastUsedAt: 16,
        });
        expect(await stores.oauthGrants.findOAuthGrant(alice.id, a.id)).toEqual({
          userId: alice.id,
          clientId: a.id,
          scopes: ['profile', 'accounts:read'],
          createdAt: 10,
          lastUsedAt: 20,
        });
        expect((await stores.oauthGrants.listUserOAuthGrants(alice.id)).map((g) => g.clientId)).toEqual([
          a.id,
          b.id,
        ]);
        await stores.oauthGrants.touchOAuthGrant(alice.id, b.id, 99);
        expect(await stores.oauthGrants.findOAuthGrant(alice.id, b.id)).toMatchObject({ lastUsedAt: 99 });
        expect(await stores.oauthGrants.deleteOAuthGrant(alice.id, a.id)).toBe(true);
        expect(await stores.oauthGrants.deleteOAuthGrant(alice.id, a.id)).toBe(false);
        expect((await stores.oauthGrants.listUserOAuthGrants(alice.id)).map((g) => g.clientId)).toEqual([
          b.id,
        ]);
        expect(await stores.oauthGrants.listUserOAuthGrants(bob.id)).toHaveLength(1);
      });

      it('uses an authorization code exactly once, even when exchanges race, and sweeps expired ones', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const web = client();
        await stores.oauthClients.createOAuthClient(web);
        const c = code(alice.id, web.id);
        await stores.authorizationCodes.createAuthorizationCode(c);
        expect(await stores.authorizationCodes.findAuthorizationCode(c.id)).toEqual(c);
        const results = await Promise.all(
          Array.from({ length: 5 }, () => stores.authorizationCodes.useAuthorizationCode(c.id, 2_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await stores.authorizationCodes.findAuthorizationCode(c.id)).toEqual({ ...c, usedAt: 2_000 });
        expect(await stores.authorizationCodes.useAuthorizationCode('missing', 2_000)).toBe(false);
        const later = code(alice.id, web.id, { expiresAt: 200_000 });
        await stores.authorizationCodes.createAuthorizationCode(later);
        expect(await stores.authorizationCodes.deleteExpiredAuthorizationCodes(61_000)).toBe(0);
        expect(await stores.authorizationCodes.deleteExpiredAuthorizationCodes(61_001)).toBe(1);
        expect(await stores.authorizationCodes.findAuthorizationCode(c.id)).toBeUndefined();
        expect(await stores.authorizationCodes.findAuthorizationCode(later.id)).toEqual(later);
      });

      it('gives a consent ticket to exactly one taker, intact, and sweeps expired ones', async () => {
        const ticket = {
          id: `ticket${++seq}`,
          secretHash: '56'.repeat(32),
          sessionId: 'login-1',
          userId: 'u-1',
          clientId: 'c-1',
          redirectUri: 'https://app.example/cb',
          scopes: ['accounts:read', 'profile'],
          state: null,
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          createdAt: 1_000,
          expiresAt: 601_000,
        };
        await stores.consentTickets.createConsentTicket(ticket);
        const taken = await Promise.all(
          Array.from({ length: 5 }, () => stores.consentTickets.takeConsentTicket(ticket.id)),
        );
        expect(taken.filter(Boolean)).toEqual([ticket]);
        expect(await stores.consentTickets.takeConsentTicket(ticket.id)).toBeUndefined();
        const later = { ...ticket, id: `ticket${++seq}`, state: 'xyz', expiresAt: 900_000 };
        await stores.consentTickets.createConsentTicket({ ...ticket, id: `ticket${++seq}` });
        await stores.consentTickets.createConsentTicket(later);
        expect(await stores.consentTickets.deleteExpiredConsentTickets(601_000)).toBe(0);
        expect(await stores.consentTickets.deleteExpiredConsentTickets(601_001)).toBe(1);
        expect(await stores.consentTickets.takeConsentTicket(later.id)).toEqual(later);
      });

      it('redeems a code once: its use, the login and the refresh token stored together, or nothing', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const web = client();
        await stores.oauthClients.createOAuthClient(web);
        const c = code(alice.id, web.id);
        await stores.authorizationCodes.createAuthorizationCode(c);
        const oauth = { clientId: web.id, scopes: c.scopes, audience: c.audience };
        const login = session(alice.id, { id: c.sessionId, mode: 'oauth', secretHash: '', oauth });
        const first = refreshToken(login.id);
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            stores.authorizationCodes.redeemAuthorizationCode(
              c.id,
              2_000,
              login,
              i === 0 ? first : refreshToken(login.id),
            ),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await stores.authorizationCodes.findAuthorizationCode(c.id))?.usedAt).toBe(2_000);
        expect(await stores.sessions.findSession(login.id)).toEqual(login);
        const stored = await stores.sessions.listOAuthSessions({ clientId: web.id });
        expect(stored.map((s) => s.id)).toEqual([login.id]);
        // Exactly one refresh token of the family was stored, whichever call won.
        const winner = results.indexOf(true);
        expect(await stores.refreshTokens.findRefreshToken(first.id)).toEqual(
          winner === 0 ? first : undefined,
        );
        expect(
          await stores.authorizationCodes.redeemAuthorizationCode(
            'missing',
            2_000,
            login,
            refreshToken(login.id),
          ),
        ).toBe(false);
      });

      it('OpenID Connect: keeps client and code settings, records the relying-party login with the redemption, lists and forgets by browser login', async () => {
        const alice = user();
        await stores.users.createUser(alice);
        const oidc = {
          subjectType: 'pairwise' as const,
          sectorIdentifier: 'rp.example',
          idTokenSignedResponseAlg: 'EdDSA',
          postLogoutRedirectUris: ['https://rp.example/bye'],
          backchannelLogoutUri: 'https://rp.example/backchannel',
          backchannelLogoutSessionRequired: true,
        };
        const rp = client({ oidc });
        const plain = client();
        await stores.oauthClients.createOAuthClient(rp);
        await stores.oauthClients.createOAuthClient(plain);
        expect(await stores.oauthClients.findOAuthClient(rp.id)).toEqual(rp);
        expect(await stores.oauthClients.findOAuthClient(plain.id)).toEqual(plain);
        const c = code(alice.id, rp.id, {
          oidc: { nonce: 'n-0S6', authSessionId: 'browser-1' },
        });
        await stores.authorizationCodes.createAuthorizationCode(c);
        expect(await stores.authorizationCodes.findAuthorizationCode(c.id)).toEqual(c);
        const oauth = { clientId: rp.id, scopes: c.scopes, audience: c.audience };
        const login = session(alice.id, { id: c.sessionId, mode: 'oauth', secretHash: '', oauth });
        const rpLogin = {
          delegationId: login.id,
          sessionId: 'browser-1',
          clientId: rp.id,
          userId: alice.id,
          authTime: 900,
          createdAt: 2_000,
        };
        expect(
          await stores.authorizationCodes.redeemAuthorizationCode(
            c.id,
            2_000,
            login,
            refreshToken(login.id),
            rpLogin,
          ),
        ).toBe(true);
        // A replay stores nothing, the relying-party login included.
        expect(
          await stores.authorizationCodes.redeemAuthorizationCode(
            c.id,
            2_001,
            login,
            refreshToken(login.id),
            {
              ...rpLogin,
              delegationId: 'other',
            },
          ),
        ).toBe(false);
        expect(await stores.relyingPartyLogins.findRelyingPartyLogin(login.id)).toEqual(rpLogin);
        expect(await stores.relyingPartyLogins.findRelyingPartyLogin('other')).toBeUndefined();
        const second = { ...rpLogin, delegationId: 'd-2', sessionId: 'browser-2', createdAt: 3_000 };
        await stores.relyingPartyLogins.recordRelyingPartyLogin(second);
        await expect(stores.relyingPartyLogins.recordRelyingPartyLogin(second)).rejects.toThrow();
        expect(await stores.relyingPartyLogins.listRelyingPartyLogins(['browser-1', 'browser-2'])).toEqual([
          rpLogin,
          second,
        ]);
        expect(await stores.relyingPartyLogins.listRelyingPartyLogins([])).toEqual([]);
        // Ending the delegation does not forget the browser login's relying parties.
        await stores.sessions.deleteSession(login.id);
        expect(await stores.relyingPartyLogins.deleteRelyingPartyLogins(['browser-1'])).toBe(1);
        expect(await stores.relyingPartyLogins.listRelyingPartyLogins(['browser-1'])).toEqual([]);
        expect(await stores.relyingPartyLogins.deleteRelyingPartyLoginsBefore(3_000)).toBe(0);
        await stores.relyingPartyLogins.recordRelyingPartyLogin({ ...second, delegationId: 'd-3' });
        // Deleting the client forgets its relying-party logins (foreign key).
        expect(await stores.oauthClients.deleteOAuthClient(rp.id)).toBe(true);
        expect(await stores.relyingPartyLogins.listRelyingPartyLogins(['browser-2'])).toEqual([]);
        await stores.relyingPartyLogins.recordRelyingPartyLogin({
          ...second,
          clientId: plain.id,
          createdAt: 10,
        });
        expect(await stores.relyingPartyLogins.deleteRelyingPartyLoginsBefore(11)).toBe(1);
      });

      it("keeps an OAuth login's client, scopes and resource, and lists a client's logins by user", async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const oauth = {
          clientId: 'c-app',
          scopes: ['accounts:read', 'profile'],
          audience: 'https://api.example',
        };
        const a = session(alice.id, { mode: 'oauth', secretHash: '', oauth });
        const b = session(bob.id, { mode: 'oauth', secretHash: '', oauth });
        const other = session(alice.id, {
          mode: 'oauth',
          secretHash: '',
          oauth: { ...oauth, clientId: 'c-other' },
        });
        const plain = session(alice.id, { mode: 'jwt', secretHash: '' });
        for (const s of [a, b, other, plain]) await stores.sessions.createSession(s);
        expect(await stores.sessions.findSession(a.id)).toEqual(a);
        expect(await stores.sessions.findSession(plain.id)).toEqual(plain);
        expect(await stores.sessions.findSession(plain.id)).not.toHaveProperty('oauth');
        expect((await stores.sessions.listOAuthSessions({ clientId: 'c-app' })).map((s) => s.id)).toEqual([
          b.id,
          a.id,
        ]);
        expect(await stores.sessions.listOAuthSessions({ clientId: 'c-app', userId: alice.id })).toEqual([a]);
        expect(await stores.sessions.listOAuthSessions({ clientId: 'c-none' })).toEqual([]);
        // Logout-all and lock end delegated logins like any other.
        expect(await stores.sessions.deleteUserSessions(alice.id)).toBe(3);
        expect(await stores.sessions.listOAuthSessions({ clientId: 'c-app' })).toEqual([b]);
      });

      it('stores API keys, lists them newest first per user, revokes once, records use', async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const [k1, k2, k3] = [apiKey(alice.id), apiKey(alice.id), apiKey(bob.id)];
        for (const k of [k1, k2, k3]) await stores.apiKeys.createApiKey(k);
        await expect(stores.apiKeys.createApiKey(k1)).rejects.toThrow();
        expect(await stores.apiKeys.findApiKey(k1.id)).toEqual(k1);
        expect(await stores.apiKeys.findApiKey('nope')).toBeUndefined();
        expect(await stores.apiKeys.listApiKeys({ userId: alice.id })).toEqual([k2, k1]);
        expect((await stores.apiKeys.listApiKeys({})).map((k) => k.id)).toEqual([k3.id, k2.id, k1.id]);
        expect(await stores.apiKeys.revokeApiKey(k1.id, 7_000)).toBe(true);
        expect(await stores.apiKeys.revokeApiKey(k1.id, 8_000)).toBe(false);
        expect(await stores.apiKeys.revokeApiKey('nope', 8_000)).toBe(false);
        await stores.apiKeys.touchApiKey(k2.id, 7_500);
        expect(await stores.apiKeys.findApiKey(k1.id)).toEqual({ ...k1, revokedAt: 7_000 });
        expect(await stores.apiKeys.findApiKey(k2.id)).toEqual({ ...k2, lastUsedAt: 7_500 });
      });
    });

    describe('ending logins (endLogins): one transaction', () => {
      const key = (userId: string, id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        userId,
        name: 'export',
        secretHash: '56'.repeat(32),
        scopes: ['accounts:read'],
        createdAt: 1_000,
        expiresAt: 9_000_000,
        lastUsedAt: null,
        revokedAt: null,
        ...overrides,
      });
      const revocation = (kind: 'session' | 'user' | 'all', subject: string) => ({
        kind,
        subject,
        at: 5_000,
        expiresAt: 9_000,
      });
      /** Alice (two logins, a live and an old revoked key) and Bob (one login, one key). */
      const world = async () => {
        const [alice, bob] = [user(), user()];
        await stores.users.createUser(alice);
        await stores.users.createUser(bob);
        const [a1, a2, b1] = [session(alice.id), session(alice.id, { mode: 'jwt' }), session(bob.id)];
        for (const s of [a1, a2, b1]) await stores.sessions.createSession(s);
        await stores.refreshTokens.createRefreshToken(refreshToken(a2.id, { id: `rt-${a2.id}` }));
        await stores.apiKeys.createApiKey(key(alice.id, `ka-${alice.id}`));
        await stores.apiKeys.createApiKey(key(alice.id, `kold-${alice.id}`, { revokedAt: 2_000 }));
        await stores.apiKeys.createApiKey(key(bob.id, `kb-${bob.id}`));
        return { alice, bob, a1, a2, b1 };
      };
      const revokedAt = async (id: string) => (await stores.apiKeys.findApiKey(id))?.revokedAt;

      it('ends one login and appends its revocation record; a missing login appends none', async () => {
        const { alice, a1, a2 } = await world();
        const ended = await stores.loginEndings.endLogins({
          target: { sessionId: a1.id },
          endSessions: true,
          revocation: revocation('session', a1.id),
        });
        expect(ended).toMatchObject({
          sessions: 1,
          apiKeys: 0,
          revocation: { kind: 'session', subject: a1.id },
        });
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id)).toEqual([a2.id]);
        expect(await revokedAt(`ka-${alice.id}`)).toBeNull();
        const again = await stores.loginEndings.endLogins({
          target: { sessionId: a1.id },
          endSessions: true,
          revocation: revocation('session', a1.id),
        });
        expect(again).toEqual({ sessions: 0, logins: [], apiKeys: 0 });
        expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([ended.revocation]);
      });

      it("ends a user's logins but the kept one, with the account change, the user's live keys and the record; no one else's", async () => {
        const { alice, bob, a1, a2, b1 } = await world();
        const ended = await stores.loginEndings.endLogins({
          target: { userId: alice.id, keepSessionId: a1.id },
          account: { lock: { lockedAt: 6_000, reason: 'card stolen' }, updatedAt: 6_000 },
          endSessions: true,
          revokeApiKeysAt: 6_000,
          revocation: revocation('user', alice.id),
        });
        expect(ended).toMatchObject({
          sessions: 1,
          apiKeys: 1,
          revocation: { kind: 'user', subject: alice.id },
        });
        expect(ended.revocation?.seq).toBeGreaterThan(0);
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id)).toEqual([a1.id]);
        expect(await stores.refreshTokens.findRefreshToken(`rt-${a2.id}`)).toBeUndefined();
        expect(await stores.users.findUserById(alice.id)).toMatchObject({
          lockedAt: 6_000,
          lockReason: 'card stolen',
          updatedAt: 6_000,
        });
        expect(await revokedAt(`ka-${alice.id}`)).toBe(6_000);
        expect(await revokedAt(`kold-${alice.id}`)).toBe(2_000); // already revoked: kept as it was
        expect(await revokedAt(`kb-${bob.id}`)).toBeNull();
        expect((await stores.sessions.listUserSessions(bob.id)).map((s) => s.id)).toEqual([b1.id]);
        expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([ended.revocation]);
      });

      it('a role change keeps logins and keys, and a password change stores the new hash', async () => {
        const { alice, a1, a2 } = await world();
        const ended = await stores.loginEndings.endLogins({
          target: { userId: alice.id },
          account: { roles: ['teller'], passwordHash: '$argon2id$new', updatedAt: 7_000 },
          endSessions: false,
          revocation: revocation('user', alice.id),
        });
        expect(ended).toMatchObject({ sessions: 0, apiKeys: 0, revocation: { kind: 'user' } });
        expect(await stores.users.findUserById(alice.id)).toMatchObject({
          roles: ['teller'],
          passwordHash: '$argon2id$new',
          lockedAt: null,
        });
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id).sort()).toEqual(
          [a1.id, a2.id].sort(),
        );
        expect(await revokedAt(`ka-${alice.id}`)).toBeNull();
      });

      it("ends everyone's logins and keys", async () => {
        const { alice, bob } = await world();
        const ended = await stores.loginEndings.endLogins({
          target: { everyone: true },
          endSessions: true,
          revokeApiKeysAt: 8_000,
          revocation: revocation('all', '*'),
        });
        expect(ended).toMatchObject({ sessions: 3, apiKeys: 2, revocation: { kind: 'all' } });
        expect(await stores.sessions.listSessions()).toEqual([]);
        expect(await revokedAt(`ka-${alice.id}`)).toBe(8_000);
        expect(await revokedAt(`kb-${bob.id}`)).toBe(8_000);
      });

      it('refuses to leave no unlocked admin, and then changes nothing at all', async () => {
        const { alice, a1, a2 } = await world();
        await stores.users.setUserRoles(alice.id, ['admin'], 3_000);
        const lockLastAdmin = {
          target: { userId: alice.id },
          account: { lock: { lockedAt: 6_000, reason: 'oops' }, updatedAt: 6_000 },
          endSessions: true,
          revokeApiKeysAt: 6_000,
          keepAnAdmin: true,
          revocation: revocation('user', alice.id),
        };
        await expect(stores.loginEndings.endLogins(lockLastAdmin)).rejects.toBeInstanceOf(LastAdminError);
        await expect(
          stores.loginEndings.endLogins({
            target: { userId: alice.id },
            account: { roles: [], updatedAt: 6_000 },
            endSessions: false,
            keepAnAdmin: true,
          }),
        ).rejects.toBeInstanceOf(LastAdminError);
        expect(await stores.users.findUserById(alice.id)).toMatchObject({ roles: ['admin'], lockedAt: null });
        expect((await stores.sessions.listUserSessions(alice.id)).map((s) => s.id).sort()).toEqual(
          [a1.id, a2.id].sort(),
        );
        expect(await revokedAt(`ka-${alice.id}`)).toBeNull();
        expect(await stores.revocations.listRevocationsSince(0, 0)).toEqual([]);
        // With another unlocked admin it goes through.
        const carol = user({ roles: ['admin'] });
        await stores.users.createUser(carol);
        expect(await stores.loginEndings.endLogins(lockLastAdmin)).toMatchObject({ sessions: 2, apiKeys: 1 });
        // A locked admin does not count.
        await expect(
          stores.loginEndings.endLogins({ ...lockLastAdmin, target: { userId: carol.id } }),
        ).rejects.toBeInstanceOf(LastAdminError);
      });

      it('two admins demoting each other at once: exactly one goes through, every time', async () => {
        for (let round = 0; round < 8; round++) {
          const [ann, bea] = [user({ roles: ['admin'] }), user({ roles: ['admin'] })];
          await stores.users.createUser(ann);
          await stores.users.createUser(bea);
          const demote = (id: string) =>
            stores.loginEndings.endLogins({
              target: { userId: id },
              account: { roles: [], updatedAt: 9_000 },
              endSessions: false,
              keepAnAdmin: true,
            });
          const results = await Promise.allSettled([demote(ann.id), demote(bea.id)]);
          expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
          expect(results.find((r) => r.status === 'rejected')).toMatchObject({
            reason: expect.any(LastAdminError),
          });
          // The survivor steps down too once the next round's admins exist: reset for the next round.
          const admins = (await stores.users.listUsers()).filter((u) => u.roles.includes('admin'));
          expect(admins).toHaveLength(1);
          await stores.users.setUserRoles((admins[0] as UserRecord).id, ['former-admin'], 9_500);
        }
      });
    });
  });
}
