import type { Generated } from 'kysely';

/**
 * Kysely's view of the tables created by migrations.ts; one source for every SQL engine.
 * Enumerated columns (mode, alg, status) are plain text in the database and typed as
 * `string` here; the row mappers in the per-aggregate stores (users.ts, sessions.ts, …) narrow them.
 */
export interface Database {
  users: {
    id: string;
    email: string;
    /** Canonical key (0005_email_key), unique. */
    email_key: string;
    password_hash: string;
    /** JSON array of role names. */
    roles: string;
    locked_at: number | null;
    lock_reason: string | null;
    created_at: number;
    updated_at: number;
  };
  sessions: {
    id: string;
    user_id: string;
    /** 'session' | 'jwt'; defaults to 'session' for rows older than migration 0002. */
    mode: string;
    secret_hash: string;
    created_at: number;
    last_seen_at: number;
    expires_at: number;
    ip: string;
    user_agent: string;
    /** mode 'oauth' (migration 0004): the client, JSON array of granted scopes, the resource. */
    client_id: string | null;
    scopes: string | null;
    audience: string | null;
    /** Migration 0011: the login's authentication context; amr is a JSON array. */
    auth_time: number;
    amr: string;
    acr: string;
  };
  refresh_tokens: {
    id: string;
    /** References sessions.id, on delete cascade. */
    session_id: string;
    secret_hash: string;
    created_at: number;
    retired_at: number | null;
    /** Migration 0009: the sealed successor of an exchanged token; null while live or retired with no grace. */
    successor: string | null;
  };
  signing_keys: {
    kid: string;
    alg: string;
    status: string;
    created_at: number;
    retired_at: number | null;
    public_jwk: string | null;
    private_key_encrypted: string;
  };
  audit_events: {
    id: string;
    at: number;
    type: string;
    actor_id: string | null;
    user_id: string | null;
    session_id: string | null;
    ip: string;
    user_agent: string;
    /** JSON object. */
    detail: string;
  };
  revocations: {
    seq: Generated<number>;
    kind: string;
    subject: string;
    at: number;
    expires_at: number;
  };
  oauth_clients: {
    id: string;
    name: string;
    type: string;
    secret_hash: string | null;
    /** JSON arrays of strings. */
    redirect_uris: string;
    scopes: string;
    grant_types: string;
    audience: string;
    created_at: number;
    /** JSON OidcClientSettings; null: a plain OAuth client (0013_openid_connect). */
    oidc: string | null;
  };
  oauth_grants: {
    user_id: string;
    client_id: string;
    /** JSON array. */
    scopes: string;
    created_at: number;
    last_used_at: number;
  };
  oauth_codes: {
    id: string;
    secret_hash: string;
    client_id: string;
    user_id: string;
    session_id: string;
    redirect_uri: string;
    code_challenge: string;
    /** JSON array. */
    scopes: string;
    audience: string;
    created_at: number;
    expires_at: number;
    used_at: number | null;
    /** Migration 0011: the consenting login's auth_time and amr (JSON array). */
    auth_time: number;
    amr: string;
    /**
     * JSON OidcCodeContext (with auth_time and amr repeated for older builds' nodes:
     * sql/authorization-codes.ts); null without scope=openid.
     */
    oidc: string | null;
  };
  oidc_rp_logins: {
    delegation_id: string;
    session_id: string;
    client_id: string;
    user_id: string;
    auth_time: number;
    created_at: number;
  };
  oauth_consent_tickets: {
    id: string;
    secret_hash: string;
    session_id: string;
    user_id: string;
    client_id: string;
    redirect_uri: string;
    /** JSON array. */
    scopes: string;
    state: string | null;
    code_challenge: string;
    created_at: number;
    expires_at: number;
  };
  api_keys: {
    id: string;
    user_id: string;
    name: string;
    secret_hash: string;
    /** JSON array. */
    scopes: string;
    created_at: number;
    expires_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
  };
}
