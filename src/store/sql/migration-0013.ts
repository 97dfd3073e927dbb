import type { Kysely, Migration } from 'kysely';

/** Migration 0013_openid_connect (issue 19), listed in migrations.ts. */
export const openIdConnectMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // OpenID Connect: a client's OIDC registration (subject type, ID-token algorithm, logout
    // URIs) and a code's sign-in context (nonce, the browser login, auth_time) as JSON, null
    // for plain OAuth; and which relying parties each browser login signed into, for
    // back-channel logout. No foreign key to sessions: the rows must outlive the login's end
    // until every relying party was told (deleted then, or by the sweep).
    await db.schema.alterTable('oauth_clients').addColumn('oidc', 'text').execute();
    await db.schema.alterTable('oauth_codes').addColumn('oidc', 'text').execute();
    await db.schema
      .createTable('oidc_rp_logins')
      .addColumn('delegation_id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('oidc_rp_logins_session_id')
      .on('oidc_rp_logins')
      .column('session_id')
      .execute();
    await db.schema
      .createIndex('oidc_rp_logins_created_at')
      .on('oidc_rp_logins')
      .column('created_at')
      .execute();
  },
};
