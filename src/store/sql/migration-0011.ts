import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Migration 0011_login_context_mfa (issue 18): how and when each login's user proved who they
 * are (sessions.auth_time, amr, acr; an authorization code carries the consenting login's to the
 * delegation it makes), and the second-factor tables.
 */
export const loginContextMfa: Migration = {
  async up(db: Kysely<unknown>) {
    // How and when each login's user proved who they are (auth_time, RFC 8176 amr, acr).
    // Logins made before this migration were password logins: auth_time is their creation.
    await db.schema
      .alterTable('sessions')
      .addColumn('auth_time', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('sessions')
      .addColumn('amr', 'text', (c) => c.notNull().defaultTo('["pwd"]'))
      .execute();
    await db.schema
      .alterTable('sessions')
      .addColumn('acr', 'text', (c) => c.notNull().defaultTo('aal1'))
      .execute();
    await sql`update sessions set auth_time = created_at`.execute(db);
    // An authorization code carries the consenting login's proof to the delegation it makes.
    await db.schema
      .alterTable('oauth_codes')
      .addColumn('auth_time', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('oauth_codes')
      .addColumn('amr', 'text', (c) => c.notNull().defaultTo('["pwd"]'))
      .execute();
    await sql`update oauth_codes set auth_time = created_at`.execute(db);
    // Second factors (src/store/ports/second-factors.ts, mfa-challenges.ts). The TOTP secret
    // is sealed with the key-encryption key; recovery codes and challenges are hashes only.
    await db.schema
      .createTable('mfa_totp')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('confirmed_at', 'bigint')
      .addColumn('last_used_step', 'bigint')
      .execute();
    await db.schema
      .createTable('mfa_recovery_codes')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addPrimaryKeyConstraint('mfa_recovery_codes_pk', ['user_id', 'code_hash'])
      .execute();
    await db.schema
      .createTable('mfa_attempts')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('blocked_until', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mfa_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('mfa_challenges_user_id').on('mfa_challenges').column('user_id').execute();
    await db.schema
      .createIndex('mfa_challenges_expires_at')
      .on('mfa_challenges')
      .column('expires_at')
      .execute();
  },
};
