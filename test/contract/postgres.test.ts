import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/sql/migrations.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import type { SqlStores } from '../../src/store/sql/stores.js';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';
import { eventsContract } from './events-contract.js';
import { sqlCodeShapesContract } from './sql-code-shapes.js';
import { sqlTransactionContract } from './sql-transaction.js';
import { storeContract } from './store-contract.js';

// Every store gets a schema of its own (tessera_test_<pid>_<random>), dropped when the file ends.
await describeWithPostgres('postgres engine', (url) => {
  afterAll(() => dropTestSchemas(url));

  storeContract('postgres', () => openPostgresStores(url, { poolSize: 4, schema: testSchema() }));
  eventsContract('postgres', () => openPostgresStores(url, { poolSize: 4, schema: testSchema() }));
  sqlTransactionContract('postgres', () => openPostgresStores(url, { poolSize: 4, schema: testSchema() }));
  sqlCodeShapesContract('postgres', () => openPostgresStores(url, { poolSize: 4, schema: testSchema() }));

  const allMigrations = async () => Object.keys(await migrationProvider.getMigrations()).sort();
  const tablesIn = async (store: SqlStores, schema: string) => {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables where table_schema = ${schema}
      order by table_name`.execute(store.db);
    return rows.map((r) => r.name);
  };

  describe('postgres migrations', () => {
    it('a fresh schema gets every migration, bookkeeping included, and nothing outside it', async () => {
      const schema = testSchema();
      const store = await openPostgresStores(url, { poolSize: 4, schema });
      try {
        expect(store.appliedMigrations).toEqual(await allMigrations());
        expect(await tablesIn(store, schema)).toEqual(
          expect.arrayContaining(['users', 'sessions', 'refresh_tokens', 'kysely_migration']),
        );
      } finally {
        await store.close();
      }
    });

    it('opening a second store on a migrated schema applies nothing and sees the same data', async () => {
      const schema = testSchema();
      const first = await openPostgresStores(url, { poolSize: 4, schema });
      const second = await openPostgresStores(url, { poolSize: 4, schema });
      try {
        expect(first.appliedMigrations.length).toBeGreaterThan(0);
        expect(second.appliedMigrations).toEqual([]);
        await first.users.createUser({
          id: 'u1',
          email: 'u1@example.com',
          emailKey: 'u1@example.com',
          passwordHash: 'hash',
          roles: ['admin'],
          lockedAt: null,
          lockReason: null,
          createdAt: 1,
          updatedAt: 1,
        });
        expect((await second.users.findUserByEmailKey('u1@example.com'))?.roles).toEqual(['admin']);
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('opens while other clients create and drop schemas on the same server', async () => {
      // kysely's Migrator lists every table of the database; a schema dropped meanwhile used
      // to fail the open with `schema "…" does not exist` (another test run, another tenant).
      const churn = new pg.Pool({ connectionString: url, max: 2 });
      let churning = true;
      const churner = async (lane: number) => {
        for (let n = 0; churning; n++) {
          const other = `tessera_churn_${process.pid}_${lane}_${n}`;
          await churn.query(`create schema ${other}`);
          await churn.query(`create table ${other}.t (id text primary key, at bigint)`);
          await churn.query(`drop schema ${other} cascade`);
        }
      };
      const lanes = [churner(0), churner(1)];
      try {
        for (let i = 0; i < 3; i++) {
          const store = await openPostgresStores(url, { poolSize: 4, schema: testSchema() });
          expect(store.appliedMigrations).toEqual(await allMigrations());
          await store.close();
        }
      } finally {
        churning = false;
        await Promise.all(lanes);
        await churn.end();
      }
    });

    it('concurrent opens on a fresh schema all succeed; exactly one applies the migrations', async () => {
      const schema = testSchema();
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresStores(url, { poolSize: 4, schema })),
      );
      try {
        const applied = stores.map((s) => s.appliedMigrations);
        expect(applied.filter((names) => names.length > 0)).toEqual([await allMigrations()]);
        expect(applied.filter((names) => names.length === 0)).toHaveLength(3);
        for (const store of stores) await expect(store.ping()).resolves.toBeUndefined();
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("upgrades a 0001 schema in place: existing sessions get mode 'session'", async () => {
      const schema = testSchema();
      // An older build's view: the same search_path trick, stopped after 0001.
      const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
      const old = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      await sql`create schema ${sql.id(schema)}`.execute(old);
      const { error } = await new Migrator({
        db: old,
        provider: migrationProvider,
        migrationTableSchema: schema,
      }).migrateTo('0001_users_and_sessions');
      expect(error).toBeUndefined();
      await sql`insert into users (id, email, password_hash, roles, created_at, updated_at)
        values ('u1', 'u1@example.com', 'hash', '[]', 1, 1)`.execute(old);
      await sql`insert into sessions (id, user_id, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
        values ('s1', 'u1', ${'ab'.repeat(32)}, 2, 2, 50000, '203.0.113.7', 'ua')`.execute(old);
      await old.destroy();

      const store = await openPostgresStores(url, { poolSize: 4, schema });
      try {
        expect(store.appliedMigrations).toEqual((await allMigrations()).slice(1));
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
          // 0011_login_context_mfa: a password login, proven when it was made.
          authTime: 2,
          amr: ['pwd'],
          acr: 'aal1',
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('postgres migration 0005_email_key', () => {
    it('keys existing users, and refuses (naming the ids, changing nothing) when two collide', async () => {
      const schema = testSchema();
      const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
      const old = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      await sql`create schema ${sql.id(schema)}`.execute(old);
      const { error } = await new Migrator({
        db: old,
        provider: migrationProvider,
        migrationTableSchema: schema,
      }).migrateTo('0004_oauth');
      expect(error).toBeUndefined();
      await sql`insert into users (id, email, password_hash, roles, created_at, updated_at) values
        ('u1', 'Erin@example.com', 'hash', '[]', 1, 1), ('u2', 'erın@example.com', 'hash', '[]', 2, 2),
        ('u3', 'Frank@example.com', 'hash', '[]', 3, 3)`.execute(old);

      await expect(openPostgresStores(url, { poolSize: 4, schema })).rejects.toThrow(
        /u1 <Erin@example\.com> = u2 <erın@example\.com>/,
      );
      const { rows } = await sql<{ name: string }>`select column_name as name from information_schema.columns
        where table_schema = ${schema} and table_name = 'users'`.execute(old);
      expect(rows.map((r) => r.name)).not.toContain('email_key');

      await sql`delete from users where id = 'u2'`.execute(old);
      await old.destroy();
      const store = await openPostgresStores(url, { poolSize: 4, schema });
      try {
        expect((await store.users.findUserByEmailKey('frank@example.com'))?.id).toBe('u3');
        expect((await store.users.findUserByEmailKey('erin@example.com'))?.email).toBe('Erin@example.com');
      } finally {
        await store.close();
      }
    });
  });

  describe('postgres prepared statements', () => {
    it("keep working after another node's migration adds columns to their tables", async () => {
      const schema = testSchema();
      const store = await openPostgresStores(url, { poolSize: 4, schema });
      try {
        const user = {
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
        await store.users.createUser(user);
        const session = {
          id: 's1',
          userId: 'u1',
          mode: 'jwt' as const,
          secretHash: '',
          createdAt: 1,
          lastSeenAt: 1,
          expiresAt: 50_000,
          ip: '::1',
          userAgent: 'ua',
          authTime: 1,
          amr: ['pwd'],
          acr: 'aal1',
        };
        await store.sessions.createSession(session);
        await store.refreshTokens.createRefreshToken({
          id: 'r1',
          sessionId: 's1',
          secretHash: 'ef',
          createdAt: 1,
          retiredAt: null,
          successor: null,
        });
        // Prepare on every pooled connection, a few times over.
        const hotPath = () =>
          Promise.all(
            Array.from({ length: 20 }, async () => {
              await store.sessions.findSession('s1');
              await store.users.findUserById('u1');
              await store.sessions.touchSession('s1', 2);
              await store.refreshTokens.findRefreshToken('r1');
            }),
          );
        await hotPath();
        for (const table of ['users', 'sessions', 'refresh_tokens']) {
          await sql`alter table ${sql.table(`${schema}.${table}`)} add column added_later text`.execute(
            store.db,
          );
        }
        await hotPath();
        expect(await store.sessions.findSession('s1')).toEqual({ ...session, lastSeenAt: 2 });
        expect(await store.users.findUserById('u1')).toEqual(user);
        const next = {
          id: 'r2',
          sessionId: 's1',
          secretHash: 'ef'.repeat(32),
          createdAt: 3,
          retiredAt: null,
          successor: null,
        };
        expect(await store.refreshTokens.rotateRefreshToken('r1', next, 'sealed')).toBe(true);
        expect(await store.refreshTokens.findRefreshToken('r1')).toMatchObject({
          retiredAt: 3,
          successor: 'sealed',
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('postgres types', () => {
    it('returns real millisecond times (int8, beyond 2^32) as numbers on every read path', async () => {
      const store = await openPostgresStores(url, { poolSize: 4, schema: testSchema() });
      const t = 1_800_000_000_123;
      try {
        const user = {
          id: 'u1',
          email: 'u1@example.com',
          emailKey: 'u1@example.com',
          passwordHash: 'hash',
          roles: [],
          lockedAt: t + 1,
          lockReason: 'testing',
          createdAt: t,
          updatedAt: t + 2,
        };
        await store.users.createUser(user);
        expect(await store.users.findUserById('u1')).toEqual(user);
        expect(await store.users.findUserByEmailKey('u1@example.com')).toEqual(user);
        expect(await store.users.listUsers()).toEqual([user]);

        const session = {
          id: 's1',
          userId: 'u1',
          mode: 'jwt' as const,
          secretHash: '',
          createdAt: t,
          lastSeenAt: t + 3,
          expiresAt: t + 4,
          ip: '::1',
          userAgent: 'ua',
          authTime: t + 2,
          amr: ['pwd'],
          acr: 'aal1',
        };
        await store.sessions.createSession(session);
        expect(await store.sessions.findSession('s1')).toEqual(session);
        expect(await store.sessions.listSessions()).toEqual([session]);
        expect(await store.sessions.listUserSessions('u1')).toEqual([session]);

        const token = {
          id: 'r1',
          sessionId: 's1',
          secretHash: 'ef'.repeat(32),
          createdAt: t,
          retiredAt: null,
          successor: null,
        };
        await store.refreshTokens.createRefreshToken(token);
        expect(
          await store.refreshTokens.rotateRefreshToken(
            'r1',
            { ...token, id: 'r2', createdAt: t + 5 },
            'sealed',
          ),
        ).toBe(true);
        expect(await store.refreshTokens.findRefreshToken('r1')).toEqual({
          ...token,
          retiredAt: t + 5,
          successor: 'sealed',
        });

        const key = {
          kid: 'k1',
          alg: 'EdDSA' as const,
          status: 'retired' as const,
          createdAt: t,
          retiredAt: t + 6,
          publicJwk: null,
          privateKeyEncrypted: 'sealed',
        };
        await store.signingKeys.createSigningKey(key);
        expect(await store.signingKeys.listSigningKeys()).toEqual([key]);

        const event = {
          id: 'e1',
          at: t,
          type: 'login.success',
          actorId: null,
          userId: 'u1',
          sessionId: 's1',
          ip: '::1',
          userAgent: 'ua',
          detail: '{}',
        };
        await store.audit.appendAuditEvent(event);
        expect(await store.audit.listAuditEvents({ limit: 5 })).toEqual([event]);

        expect(await store.sessions.deleteExpiredSessions(t + 4, 0)).toBe(1);
        expect(await store.audit.deleteAuditEventsBefore(t + 1)).toBe(1);
      } finally {
        await store.close();
      }
    });
  });
});
