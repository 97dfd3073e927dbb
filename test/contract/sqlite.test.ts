import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/sql/migrations.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { sqlTransactionContract } from './sql-transaction.js';
import { storeContract } from './store-contract.js';

let n = 0;
storeContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));
sqlTransactionContract('sqlite', () => openSqliteStores(join(tempDir(), `store-${++n}.db`)));

describe('sqlite migrations', () => {
  it("upgrades a 0001 database in place: existing sessions get mode 'session'", async () => {
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
      });
      expect(await store.audit.listAuditEvents({ limit: 1 })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
