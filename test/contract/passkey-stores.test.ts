import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStores } from '../../src/store/memory/stores.js';
import { openPasskeyStores, type PasskeyStores } from '../../src/store/passkey-stores.js';
import type { Stores, UserRecord } from '../../src/store/ports/index.js';
import type { PasskeyRecord } from '../../src/store/ports/passkeys.js';
import type { WebAuthnChallengeRecord } from '../../src/store/ports/webauthn-challenges.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { dropTestSchemas, serviceUnavailable, serviceUrl, testSchema } from '../services.js';

/** The passkey aggregates' ports (migration 0012_passkeys), asserted the same on every engine. */

const user = (id: string): UserRecord => ({
  id,
  email: `${id}@example.com`,
  emailKey: `${id}@example.com`,
  passwordHash: 'x',
  roles: [],
  lockedAt: null,
  lockReason: null,
  createdAt: 1,
  updatedAt: 1,
});

const passkey = (id: string, userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord => ({
  id,
  userId,
  credentialId: `cred-${id}`,
  publicKey: 'pQECAyYgASFYIB',
  counter: 0,
  transports: ['internal', 'hybrid'],
  deviceType: 'multiDevice',
  backupEligible: true,
  backedUp: true,
  aaguid: '00000000-0000-0000-0000-000000000000',
  name: `key ${id}`,
  createdAt: 100,
  lastUsedAt: null,
  ...overrides,
});

const challenge = (
  hash: string,
  overrides: Partial<WebAuthnChallengeRecord> = {},
): WebAuthnChallengeRecord => ({
  challengeHash: hash,
  purpose: 'register',
  userId: 'u1',
  bindingId: 's1',
  createdAt: 1_000,
  expiresAt: 301_000,
  ...overrides,
});

const pgUnavailable = await serviceUnavailable('postgres');
if (pgUnavailable && process.env.CI === 'true') throw new Error(`PostgreSQL needed: ${pgUnavailable}`);
if (pgUnavailable) console.warn(`\n!!! SKIPPED the PostgreSQL passkey store contract: ${pgUnavailable}\n`);
afterAll(async () => {
  if (!pgUnavailable) await dropTestSchemas(serviceUrl('postgres'));
});

const engines: Array<[string, () => Promise<Stores>]> = [
  ['memory', async () => new MemoryStores()],
  ['sqlite', () => openSqliteStores(join(tempDir(), `passkeys-${Math.random()}.db`))],
  ...(pgUnavailable
    ? []
    : [
        [
          'postgres',
          () => openPostgresStores(serviceUrl('postgres'), { poolSize: 4, schema: testSchema() }),
        ] as [string, () => Promise<Stores>],
      ]),
];

describe.each(engines)('passkey stores on %s', (_engine, open) => {
  const withStores = async (body: (stores: PasskeyStores, store: Stores) => Promise<void>) => {
    const store = await open();
    try {
      await store.users.createUser(user('u1'));
      await store.users.createUser(user('u2'));
      await body(openPasskeyStores(store), store);
    } finally {
      await store.close();
    }
  };

  it('several passkeys per user, listed oldest first, every field kept; a credential id is registered once', () =>
    withStores(async ({ passkeys }) => {
      const a = passkey('a', 'u1', { createdAt: 200, transports: ['usb'], deviceType: 'singleDevice' });
      const b = passkey('b', 'u1', { createdAt: 100, backupEligible: false, backedUp: false });
      expect(await passkeys.createPasskey(a)).toBe(true);
      expect(await passkeys.createPasskey(b)).toBe(true);
      expect(await passkeys.createPasskey(passkey('c', 'u2'))).toBe(true);
      // The same authenticator credential again, for anyone: refused, nothing stored.
      expect(await passkeys.createPasskey(passkey('d', 'u2', { credentialId: 'cred-a' }))).toBe(false);
      expect(await passkeys.listPasskeys('u1')).toEqual([b, a]);
      expect((await passkeys.listPasskeys('u2')).map((p) => p.id)).toEqual(['c']);
      expect(await passkeys.findPasskeyByCredentialId('cred-a')).toEqual(a);
      expect(await passkeys.findPasskeyByCredentialId('cred-d')).toBeUndefined();
    }));

  it("rename and delete touch only the user's own passkey", () =>
    withStores(async ({ passkeys }) => {
      await passkeys.createPasskey(passkey('a', 'u1'));
      expect(await passkeys.renamePasskey('u2', 'a', 'stolen')).toBe(false);
      expect(await passkeys.renamePasskey('u1', 'a', 'Work laptop')).toBe(true);
      expect((await passkeys.findPasskeyByCredentialId('cred-a'))?.name).toBe('Work laptop');
      expect(await passkeys.deletePasskey('u2', 'a')).toBe(false);
      expect(await passkeys.deletePasskey('u1', 'missing')).toBe(false);
      expect(await passkeys.deletePasskey('u1', 'a')).toBe(true);
      expect(await passkeys.deletePasskey('u1', 'a')).toBe(false);
      expect(await passkeys.listPasskeys('u1')).toEqual([]);
    }));

  it('a use is recorded compare-and-set on the counter: of two racing uses only one counts', () =>
    withStores(async ({ passkeys }) => {
      await passkeys.createPasskey(passkey('a', 'u1', { counter: 5 }));
      const use = { counter: 6, backedUp: false, usedAt: 900 };
      const results = await Promise.all([
        passkeys.recordPasskeyUse('a', 5, use),
        passkeys.recordPasskeyUse('a', 5, { ...use, counter: 7 }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await passkeys.findPasskeyByCredentialId('cred-a');
      expect(stored).toMatchObject({ backedUp: false, lastUsedAt: 900 });
      expect([6, 7]).toContain(stored?.counter);
      expect(await passkeys.recordPasskeyUse('a', 5, use)).toBe(false);
      expect(await passkeys.recordPasskeyUse('missing', 0, use)).toBe(false);
    }));

  it("a factor reset deletes all of one user's passkeys", () =>
    withStores(async ({ passkeys }) => {
      await passkeys.createPasskey(passkey('a', 'u1'));
      await passkeys.createPasskey(passkey('b', 'u1'));
      await passkeys.createPasskey(passkey('c', 'u2'));
      expect(await passkeys.deleteUserPasskeys('u1')).toBe(2);
      expect(await passkeys.listPasskeys('u1')).toEqual([]);
      expect(await passkeys.listPasskeys('u2')).toHaveLength(1);
    }));

  it('a challenge is taken exactly once, with its purpose and binding; expired ones are swept', () =>
    withStores(async ({ challenges }) => {
      const c = challenge('h1');
      await challenges.createChallenge(c);
      await challenges.createChallenge(challenge('h2', { purpose: 'login', userId: null, bindingId: null }));
      await challenges.createChallenge(challenge('old', { expiresAt: 500 }));
      const takers = await Promise.all([challenges.takeChallenge('h1'), challenges.takeChallenge('h1')]);
      expect(takers.filter(Boolean)).toEqual([c]);
      expect(await challenges.takeChallenge('h1')).toBeUndefined();
      expect(await challenges.deleteExpiredChallenges(1_000)).toBe(1);
      expect(await challenges.takeChallenge('old')).toBeUndefined();
      expect(await challenges.takeChallenge('h2')).toMatchObject({ purpose: 'login', userId: null });
    }));
});
