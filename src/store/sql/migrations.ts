import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';
// The one import from core: the key's rules are the domain's, and the migration must compute
// exactly the keys that logins will look up. email-key.ts is pure and imports nothing.
import { canonicalEmailKey } from '../../core/email-key.js';
import { loginContextMfa } from './migration-0011.js';
import { passkeysMigration } from './migration-0012.js';
import { openIdConnectMigration } from './migration-0013.js';
import { securityEventsMigration } from './migration-events.js';

/**
 * Migrations live in code (not files found at run time) so the compiled package and the
 * tests apply exactly the same list. Column types are ones SQLite and PostgreSQL both
 * understand; times are bigint milliseconds. Never edit a migration that has shipped: add one.
 */
const migrations: Record<string, Migration> = {
  '0001_users_and_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('locked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
      // The sweep deletes by either expiry; each gets an index so it never scans the table.
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
      await db.schema.createIndex('sessions_last_seen_at').on('sessions').column('last_seen_at').execute();
    },
  },
  '0002_jwt_mode': {
    async up(db: Kysely<unknown>) {
      // Rows that predate modes were all made in session mode.
      await db.schema
        .alterTable('sessions')
        .addColumn('mode', 'text', (c) => c.notNull().defaultTo('session'))
        .execute();
      // Deleting a session (logout, revocation, the sweep) takes its refresh-token family with it.
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      // Serves retireOtherRefreshTokens and the cascade, which would otherwise scan the table.
      await db.schema
        .createIndex('refresh_tokens_session_id')
        .on('refresh_tokens')
        .column('session_id')
        .execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .addColumn('public_jwk', 'text')
        .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
        .execute();
      // No foreign keys: the audit trail outlives the users and sessions it mentions.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('user_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      // One index per way the trail is read: by user, by type, everything (and the retention sweep).
      await db.schema
        .createIndex('audit_events_user_id_at')
        .on('audit_events')
        .columns(['user_id', 'at'])
        .execute();
      await db.schema
        .createIndex('audit_events_type_at')
        .on('audit_events')
        .columns(['type', 'at'])
        .execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
    },
  },
  '0003_control': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('lock_reason', 'text').execute();
      // The revocation log: hybrid nodes catch up from it by sequence number. The sequence is
      // the database's, so it is one total order however many nodes write.
      const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('revocations')
        .addColumn('seq', isPostgres ? 'bigserial' : 'integer', (c) =>
          isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('revocations_expires_at').on('revocations').column('expires_at').execute();
    },
  },
  '0004_oauth': {
    async up(db: Kysely<unknown>) {
      // An OAuth refresh-token family is a login like any other (mode 'oauth'), so lock,
      // logout-all, admin revocation, expiry and the sweep cover delegated access unchanged.
      // No foreign key to oauth_clients: deleting a client ends its logins through Sessions
      // (hybrid revocation, the Redis copies), not behind their back.
      await db.schema.alterTable('sessions').addColumn('client_id', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('scopes', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('audience', 'text').execute();
      await db.schema.createIndex('sessions_client_id').on('sessions').column('client_id').execute();
      await db.schema
        .createTable('oauth_clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('grant_types', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_grants')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('oauth_grants_pk', ['user_id', 'client_id'])
        .execute();
      await db.schema.createIndex('oauth_grants_client_id').on('oauth_grants').column('client_id').execute();
      await db.schema
        .createTable('oauth_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('oauth_codes_expires_at').on('oauth_codes').column('expires_at').execute();
      await db.schema.createIndex('oauth_codes_client_id').on('oauth_codes').column('client_id').execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_keys_user_id').on('api_keys').column('user_id').execute();
    },
  },
  '0005_email_key': {
    async up(db: Kysely<unknown>) {
      // One account per canonical address (case, look-alikes, punycode: core/email-key.ts).
      // Existing rows get their key here; two rows with one key are two accounts a person
      // could confuse (or one person twice), and only an operator can say which to keep, so
      // the migration refuses, naming them, before changing anything. Never merged silently.
      const users = (
        await sql<{ id: string; email: string }>`select id, email from users order by created_at, id`.execute(
          db,
        )
      ).rows;
      const idsByKey = new Map<string, { id: string; email: string }[]>();
      for (const user of users) {
        const key = canonicalEmailKey(user.email);
        idsByKey.set(key, [...(idsByKey.get(key) ?? []), user]);
      }
      const collisions = [...idsByKey.values()].filter((group) => group.length > 1);
      if (collisions.length > 0) {
        const listed = collisions
          .map((group) => group.map((u) => `${u.id} <${u.email}>`).join(' = '))
          .join('; ');
        throw new Error(
          `${collisions.length} address(es) are held by more than one account, which Tessera now treats as the same address (case and look-alike characters): ${listed}. Keep one account per address (in the database, delete the others or change their email), then start again`,
        );
      }
      // Nullable only because SQLite cannot add a NOT NULL column to a filled table; every row
      // has a key from here on, and the unique index is what matters. (Not named users_email_key:
      // PostgreSQL already gave 0001's unique constraint on email that name.)
      const fill = async (tx: Kysely<unknown>) => {
        await tx.schema.alterTable('users').addColumn('email_key', 'text').execute();
        for (const [key, [user]] of idsByKey) {
          await sql`update users set email_key = ${key} where id = ${user?.id}`.execute(tx);
        }
        await tx.schema
          .createIndex('users_canonical_email')
          .on('users')
          .column('email_key')
          .unique()
          .execute();
      };
      // PostgreSQL: the Migrator's transaction already holds this; SQLite: one of our own.
      if (db.isTransaction) await fill(db);
      else await db.transaction().execute(fill);
    },
  },
  '0006_oauth_consent_tickets': {
    async up(db: Kysely<unknown>) {
      // One row per consent page shown; taken (deleted) by the Allow/Deny answer, swept at expiry.
      // No foreign keys: a ticket lives minutes, and one of a deleted user or client fails its checks.
      await db.schema
        .createTable('oauth_consent_tickets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('state', 'text')
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('oauth_consent_tickets_expires_at')
        .on('oauth_consent_tickets')
        .column('expires_at')
        .execute();
    },
  },
  '0007_meta': {
    async up(db: Kysely<unknown>) {
      // Facts about the database itself, one row per key: `served_mode` (written by every
      // server at start) tells the CLI and other nodes which mode the deployment runs.
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // Account recovery and verification by email (issue 17): the outbox, mailed single-use tokens,
  // proven addresses and the device fingerprints of the new-device alert.
  '0008_email_recovery': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body_text', 'text', (c) => c.notNull())
        .addColumn('body_html', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      // The worker's question: pending and due, oldest first.
      await db.schema
        .createIndex('mail_outbox_due')
        .on('mail_outbox')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createTable('email_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('email_tokens_user_purpose')
        .on('email_tokens')
        .columns(['user_id', 'purpose'])
        .execute();
      await db.schema
        .createIndex('email_tokens_expires_at')
        .on('email_tokens')
        .column('expires_at')
        .execute();
      await db.schema
        .createTable('email_verifications')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('verified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('known_devices')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('known_devices_pk', ['user_id', 'fingerprint'])
        .execute();
    },
  },
  '0009_refresh_token_successor': {
    async up(db: Kysely<unknown>) {
      // The successor an exchanged refresh token was rotated to, sealed under the exchanged
      // token's own secret (core/refresh-rotation.ts): a retry within the grace window gets the
      // same successor back instead of a second live token. Null: retired with no grace.
      await db.schema.alterTable('refresh_tokens').addColumn('successor', 'text').execute();
    },
  },
  '0010_admin_paging': {
    async up(db: Kysely<unknown>) {
      // The admin API's keyset pages (newest first, id breaking ties), all sessions or one
      // user's, and the audit log's (at, id) cursor: each page is one index range, never a scan.
      // Users page on the unique email_key index that 0005 made.
      await db.schema
        .createIndex('sessions_created_at_id')
        .on('sessions')
        .columns(['created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('sessions_user_id_created_at_id')
        .on('sessions')
        .columns(['user_id', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('audit_events_at_id').on('audit_events').columns(['at', 'id']).execute();
    },
  },
  // Issue 18: each login's authentication context and the second-factor tables (own file: its size).
  '0011_login_context_mfa': loginContextMfa,
  // WebAuthn credentials and their challenges (issue 18): in migration-0012.ts.
  '0012_passkeys': passkeysMigration,
  // OpenID Connect client and code settings, relying-party logins (issue 19): migration-0013.ts.
  '0013_openid_connect': openIdConnectMigration,
  // Security events, the HTTP delivery outbox and webhook endpoints (issue 21).
  '0014_security_events': securityEventsMigration,
};

/** Exported so tests can stop at an older migration and check the upgrade path. */
export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies every pending migration; returns the names of those that ran (none: already up to
 * date), throws with the failing migration's name. On PostgreSQL, kysely's Migrator holds an
 * advisory lock and runs them in one transaction, so nodes starting at once apply each
 * migration exactly once. `migrationTableSchema` (PostgreSQL): the schema of kysely's own
 * bookkeeping tables; without it the Migrator takes a kysely_migration table in ANY schema of
 * the database for ours and skips creating it.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  options: { migrationTableSchema?: string } = {},
): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider, ...options });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // No failed migration: the check before running failed, e.g. an older build opening a
    // database that a newer one has migrated ("previously executed migration ... is missing").
    throw new Error(failed ? `migration ${failed} failed: ${message}` : `migrations not applied: ${message}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
