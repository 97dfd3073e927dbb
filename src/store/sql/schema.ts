/** Kysely's view of the tables created by migrations.ts; one source for every SQL engine. */
export interface Database {
  users: {
    id: string;
    email: string;
    password_hash: string;
    /** JSON array of role names. */
    roles: string;
    locked_at: number | null;
    created_at: number;
    updated_at: number;
  };
  sessions: {
    id: string;
    user_id: string;
    secret_hash: string;
    created_at: number;
    last_seen_at: number;
    expires_at: number;
    ip: string;
    user_agent: string;
  };
}
