import { describe, expect, it } from 'vitest';
import { EMAIL_MEMO_MS, UserEmails } from '../../src/core/user-emails.js';
import { MemoryStores } from '../../src/store/memory/stores.js';

const user = (id: string, email: string) => ({
  id,
  email,
  emailKey: email,
  passwordHash: 'not used here',
  roles: [],
  lockedAt: null,
  lockReason: null,
  createdAt: 0,
  updatedAt: 0,
});

describe('UserEmails (GET /auth/session in jwt and hybrid modes)', () => {
  it('answers remembered addresses without the store, reads a miss once, bounds its memory', async () => {
    const store = new MemoryStores().users;
    await store.createUser(user('u1', 'ada@example.com'));
    await store.createUser(user('u2', 'bob@example.com'));
    const now = 0;
    const emails = new UserEmails(store, () => now, 2);

    const miss = emails.emailOf('u1');
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toBe('ada@example.com');
    expect(emails.emailOf('u1')).toBe('ada@example.com');
    expect(await emails.emailOf('nobody')).toBeUndefined();

    emails.remember({ id: 'u2', email: 'bob@example.com' });
    expect(emails.emailOf('u2')).toBe('bob@example.com');
    // Full at 2 entries: the third clears the memo, then later misses read the store again.
    emails.remember({ id: 'u3', email: 'cy@example.com' });
    expect(emails.emailOf('u3')).toBe('cy@example.com');
    expect(emails.emailOf('u1')).toBeInstanceOf(Promise);

    emails.forget('u3');
    expect(await emails.emailOf('u3')).toBeUndefined();
  });

  it('trusts a remembered address for a minute only, so an email change reaches every node', async () => {
    const store = new MemoryStores().users;
    await store.createUser(user('u1', 'ada@example.com'));
    let now = 0;
    const emails = new UserEmails(store, () => now);
    expect(await emails.emailOf('u1')).toBe('ada@example.com');
    await store.setUserEmail('u1', 'ada@new.example', 'ada@new.example', 1);
    now = EMAIL_MEMO_MS - 1;
    expect(emails.emailOf('u1')).toBe('ada@example.com');
    now = EMAIL_MEMO_MS;
    expect(await emails.emailOf('u1')).toBe('ada@new.example');
  });
});
