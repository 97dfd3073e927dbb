import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The second-factor tables (migration 0011_login_context_mfa). */
export interface MfaTables {
  mfa_totp: {
    /** References users.id, on delete cascade. */
    user_id: string;
    secret_sealed: string;
    created_at: number;
    confirmed_at: number | null;
    last_used_step: number | null;
  };
  mfa_recovery_codes: {
    user_id: string;
    /** SHA-256 (hex) of the normalised code. */
    code_hash: string;
    created_at: number;
    used_at: number | null;
  };
  mfa_attempts: {
    user_id: string;
    failures: number;
    blocked_until: number;
  };
  mfa_challenges: {
    id: string;
    secret_hash: string;
    user_id: string;
    purpose: string;
    /** JSON array of RFC 8176 values. */
    amr: string;
    created_at: number;
    expires_at: number;
  };
}

export type MfaDatabase = Database & MfaTables;

/** The store's kysely instance, seen with the second-factor tables too. */
export const withMfaTables = (db: Kysely<Database>) => db as unknown as Kysely<MfaDatabase>;
