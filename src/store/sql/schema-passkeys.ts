import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Kysely's view of the passkey tables (migration 0012_passkeys). Flags are 0/1 on both engines. */
export interface PasskeyTables {
  passkeys: {
    id: string;
    user_id: string;
    credential_id: string;
    public_key: string;
    counter: number;
    /** JSON array of strings. */
    transports: string;
    device_type: string;
    backup_eligible: number;
    backed_up: number;
    aaguid: string;
    name: string;
    created_at: number;
    last_used_at: number | null;
  };
  webauthn_challenges: {
    challenge_hash: string;
    purpose: string;
    user_id: string | null;
    binding_id: string | null;
    created_at: number;
    expires_at: number;
  };
}

export type PasskeyDatabase = Database & PasskeyTables;

/** The store's kysely instance, seen with the passkey tables too. */
export const withPasskeyTables = (db: Kysely<Database>) => db as unknown as Kysely<PasskeyDatabase>;
