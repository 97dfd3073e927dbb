import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/sql/migrations.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { eventsContract } from './events-contract.js';
import { sqlCodeShapesContract } from './sql-code-shapes.js';
import { sqlTransactionContract } from './sql-transaction.js';
import { storeContract } from './store-contract.js';

let n = 0;
storeContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));
eventsContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));
sqlTransactionContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));
sqlCodeShapesContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));

describe('sqlite migrations', () => {
  it("upgrades a 0001 database in place: existing sessions get mode 'session' and a password login's context (0011)", async () => {
    const filename = join(tempDir(), 'upgrade.db');
    const database = new BetterSqlite3(filename);
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const { error } = await new Migrator({ db: old, provider: migrationProvider }).migrateTo(
      '0001_users_and_sessions',
    );
    expect(error).toBeUndefined();
    database
      .prepare(
        'insert into users (id, email, password_hash, roles, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
      )
      .run('u1', 'u1@example.com', 'hash', '[]', 1, 1);
    database
      .prepare(
        'insert into sessions (id, user_id, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent) values (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run('s1', 'u1', 'ab'.repeat(32), 2, 2, 50_000, '203.0.113.7', 'ua');
    await old.destroy();

    const store = await openSqliteStores(filename);
    try {
      expect(await store.sessions.findSession('s1')).toEqual({
        id: 's1',
        userId: 'u1',
        mode: 'session',
        secretHash: 'ab'.repeat(32),
        createdAt: 2,
        lastSeenAt: 2,
        expiresAt: 50_000,
        ip: '203.0.113.7',
        userAgent: 'ua',
        // 0011_login_context_mfa: a login from before knew only passwords; proven when it was made.
        authTime: 2,
        amr: ['pwd'],
        acr: 'aal1',
      });
      expect(await store.audit.listAuditEvents({ limit: 1 })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('sqlite migration 0005_email_key', () => {
  /** A database an older build made (migrated to 0004), holding these users. */
  const oldDatabase = async (emails: string[]) => {
    const filename = join(tempDir(), 'email-key.db');
    const database = new BetterSqlite3(filename);
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const { error } = await new Migrator({ db: old, provider: migrationProvider }).migrateTo('0004_oauth');
    expect(error).toBeUndefined();
    const insert = database.prepare(
      'insert into users (id, email, password_hash, roles, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
    );
    for (const [i, email] of emails.entries()) insert.run(`u${i + 1}`, email, 'hash', '[]', i + 1, i + 1);
    await old.destroy();
    return { filename, database: () => new BetterSqlite3(filename) };
  };

  it('gives existing users their canonical key, so a differently-cased login finds them', async () => {
    const { filename } = await oldDatabase(['Ada@example.com', 'bob@bücher.de']);
    const store = await openSqliteStores(filename);
    try {
      expect((await store.users.findUserByEmailKey('ada@example.com'))?.id).toBe('u1');
      expect((await store.users.findUserByEmailKey('bob@xn--bcher-kva.de'))?.id).toBe('u2');
      // The display form is kept as typed.
      expect((await store.users.findUserById('u1'))?.email).toBe('Ada@example.com');
    } finally {
      await store.close();
    }
  });

  it('refuses to merge accounts whose addresses collide, naming their ids, and changes nothing', async () => {
    const { filename, database } = await oldDatabase([
      'Carol@example.com',
      'dave@example.com',
      'carol@example.com',
      'ｄave@example.com',
    ]);
    const opening = openSqliteStores(filename);
    await expect(opening).rejects.toThrow(/0005_email_key/);
    const message = await opening.catch((error: Error) => error.message);
    expect(message).toMatch(/u1 <Carol@example\.com> = u3 <carol@example\.com>/);
    expect(message).toMatch(/u2 <dave@example\.com> = u4 <ｄave@example\.com>/);
    expect(message).toMatch(/2 address\(es\)/);
    const db = database();
    const columns = db.prepare("select name from pragma_table_info('users')").all() as { name: string }[];
    expect(columns.map((c) => c.name)).not.toContain('email_key');
    // Once the operator keeps one account per address, the upgrade goes through.
    db.prepare("delete from users where id in ('u3', 'u4')").run();
    db.close();
    const store = await openSqliteStores(filename);
    expect((await store.users.findUserByEmailKey('carol@example.com'))?.id).toBe('u1');
    await store.close();
  });
});
