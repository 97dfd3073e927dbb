import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EmailStores, openEmailStores } from '../../src/store/email-stores.js';
import { MemoryStores } from '../../src/store/memory/stores.js';
import type { Stores, UserRecord } from '../../src/store/ports/index.js';
import type { MailRecord } from '../../src/store/ports/mail-outbox.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { dropTestSchemas, serviceUnavailable, serviceUrl, testSchema } from '../services.js';

/** The email aggregates' ports, asserted the same on every engine (as test/contract/ does for the rest). */

const user = (id: string, email = `${id}@example.com`): UserRecord => ({
  id,
  email,
  emailKey: email.toLowerCase(),
  passwordHash: 'x',
  roles: [],
  lockedAt: null,
  lockReason: null,
  createdAt: 1,
  updatedAt: 1,
});

const mail = (id: string, at: number): MailRecord => ({
  id,
  kind: 'verify',
  userId: null,
  to: `${id}@example.com`,
  subject: 's',
  text: 'link',
  html: '<p>link</p>',
  status: 'pending',
  attempts: 0,
  nextAttemptAt: at,
  leaseOwner: null,
  leaseUntil: null,
  lastError: null,
  createdAt: at,
  sentAt: null,
});

const pgUnavailable = await serviceUnavailable('postgres');
if (pgUnavailable && process.env.CI === 'true') throw new Error(`PostgreSQL needed: ${pgUnavailable}`);
if (pgUnavailable) console.warn(`\n!!! SKIPPED the PostgreSQL email store contract: ${pgUnavailable}\n`);
afterAll(async () => {
  if (!pgUnavailable) await dropTestSchemas(serviceUrl('postgres'));
});

const engines: Array<[string, () => Promise<Stores>]> = [
  ['memory', async () => new MemoryStores()],
  ['sqlite', () => openSqliteStores(join(tempDir(), 'contract.db'))],
  ...(pgUnavailable
    ? []
    : [
        [
          'postgres',
          () => openPostgresStores(serviceUrl('postgres'), { poolSize: 4, schema: testSchema() }),
        ] as [string, () => Promise<Stores>],
      ]),
];

describe.each(engines)('email stores on %s', (_engine, open) => {
  const withStores = async (body: (stores: EmailStores, store: Stores) => Promise<void>) => {
    const store = await open();
    try {
      await body(openEmailStores(store), store);
    } finally {
      await store.close();
    }
  };

  it('outbox: due messages are claimed once per lease, oldest first; only the holder marks them', () =>
    withStores(async ({ outbox }) => {
      await outbox.enqueueMail(mail('b', 200));
      await outbox.enqueueMail(mail('a', 100));
      await outbox.enqueueMail(mail('later', 1_000_000));
      const first = await outbox.claimMail(1000, 'node-1', 61_000, 10);
      expect(first.map((m) => m.id)).toEqual(['a', 'b']);
      expect(first[0]).toMatchObject({ leaseOwner: 'node-1', leaseUntil: 61_000, text: 'link' });
      expect(await outbox.claimMail(1000, 'node-2', 61_000, 10)).toEqual([]);
      expect(await outbox.markMailSent('a', 'node-2', 2000)).toBe(false);
      expect(await outbox.markMailSent('a', 'node-1', 2000)).toBe(true);
      // A lease that ran out is anyone's.
      expect((await outbox.claimMail(61_000, 'node-2', 121_000, 10)).map((m) => m.id)).toEqual(['b']);
      expect(
        await outbox.markMailFailed('b', 'node-2', {
          attempts: 1,
          nextAttemptAt: 90_000,
          error: '451 busy',
          final: false,
        }),
      ).toBe(true);
      expect(await outbox.claimMail(80_000, 'node-1', 140_000, 10)).toEqual([]);
      const retried = await outbox.claimMail(90_000, 'node-1', 150_000, 10);
      expect(retried.map((m) => [m.id, m.attempts, m.lastError])).toEqual([['b', 1, '451 busy']]);
      await outbox.markMailFailed('b', 'node-1', {
        attempts: 2,
        nextAttemptAt: 0,
        error: 'gone',
        final: true,
      });
      const listed = await outbox.listMail({ limit: 10 });
      expect(listed.map((m) => [m.id, m.status])).toEqual([
        ['later', 'pending'],
        ['b', 'failed'],
        ['a', 'sent'],
      ]);
      expect(listed[2]).not.toHaveProperty('text');
      expect((await outbox.listMail({ status: 'sent', limit: 10 })).map((m) => m.id)).toEqual(['a']);
      expect(await outbox.deleteMailBefore(10_000)).toBe(2);
      expect((await outbox.listMail({ limit: 10 })).map((m) => m.id)).toEqual(['later']);
    }));

  it('email tokens: use once, retire by user and purpose, sweep expired', () =>
    withStores(async ({ tokens }, store) => {
      await store.users.createUser(user('u1'));
      const token = {
        id: 't1',
        userId: 'u1',
        purpose: 'reset' as const,
        secretHash: 'h',
        email: 'u1@example.com',
        createdAt: 1,
        expiresAt: 100,
        usedAt: null,
      };
      await tokens.createEmailToken(token);
      await tokens.createEmailToken({ ...token, id: 't2' });
      await tokens.createEmailToken({ ...token, id: 't3', purpose: 'verify' });
      expect(await tokens.findEmailToken('t1')).toEqual(token);
      expect(await tokens.findEmailToken('nope')).toBeUndefined();
      const racers = await Promise.all([tokens.useEmailToken('t1', 5), tokens.useEmailToken('t1', 6)]);
      expect(racers.filter(Boolean)).toHaveLength(1);
      expect(await tokens.retireEmailTokens('u1', 'reset', 7)).toBe(1);
      expect((await tokens.findEmailToken('t2'))?.usedAt).toBe(7);
      expect((await tokens.findEmailToken('t3'))?.usedAt).toBeNull();
      expect(await tokens.deleteExpiredEmailTokens(101)).toBe(3);
    }));

  it('verifications and known devices', () =>
    withStores(async ({ verifications, devices }, store) => {
      await store.users.createUser(user('u1'));
      await store.users.createUser(user('u2'));
      expect(await verifications.verifiedEmail('u1')).toBeUndefined();
      await verifications.markEmailVerified('u1', 'old@example.com', 1);
      await verifications.markEmailVerified('u1', 'new@example.com', 2);
      expect(await verifications.verifiedEmail('u1')).toBe('new@example.com');
      expect(await verifications.verifiedEmails(['u1', 'u2'])).toEqual(new Map([['u1', 'new@example.com']]));
      expect(await devices.hasKnownDevices('u1')).toBe(false);
      expect(await devices.rememberDevice('u1', 'f1', 1)).toBe(true);
      expect(await devices.rememberDevice('u1', 'f1', 2)).toBe(false);
      expect(await devices.rememberDevice('u2', 'f1', 2)).toBe(true);
      expect(await devices.hasKnownDevices('u1')).toBe(true);
    }));

  it('users: setUserEmail moves the account, and refuses an address another account holds', () =>
    withStores(async (_stores, store) => {
      await store.users.createUser(user('u1'));
      await store.users.createUser(user('u2'));
      await store.users.setUserEmail('u1', 'Moved@example.com', 'moved@example.com', 5);
      expect((await store.users.findUserByEmailKey('moved@example.com'))?.id).toBe('u1');
      expect((await store.users.findUserById('u1'))?.email).toBe('Moved@example.com');
      expect(await store.users.findUserByEmailKey('u1@example.com')).toBeUndefined();
      await expect(
        store.users.setUserEmail('u2', 'MOVED@example.com', 'moved@example.com', 6),
      ).rejects.toThrow('email already registered');
      expect((await store.users.findUserById('u2'))?.email).toBe('u2@example.com');
    }));
});
