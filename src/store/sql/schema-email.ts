import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Kysely's view of the email tables (migration 0008_email_recovery). */
export interface EmailTables {
  mail_outbox: {
    id: string;
    kind: string;
    user_id: string | null;
    recipient: string;
    subject: string;
    body_text: string;
    body_html: string;
    status: string;
    attempts: number;
    next_attempt_at: number;
    lease_owner: string | null;
    lease_until: number | null;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
  };
  email_tokens: {
    id: string;
    user_id: string;
    purpose: string;
    secret_hash: string;
    email: string;
    created_at: number;
    expires_at: number;
    used_at: number | null;
  };
  email_verifications: {
    user_id: string;
    email: string;
    verified_at: number;
  };
  known_devices: {
    user_id: string;
    fingerprint: string;
    first_seen_at: number;
    last_seen_at: number;
  };
}

export type EmailDatabase = Database & EmailTables;

/** The store's kysely instance, seen with the email tables too. */
export const withEmailTables = (db: Kysely<Database>) => db as unknown as Kysely<EmailDatabase>;
