import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Kysely's view of the tables of migration 0014_security_events (issue 21). */
export interface EventTables {
  security_events: {
    id: string;
    type: string;
    at: number;
    user_id: string | null;
    /** JSON object. */
    data: string;
    fanned_out_at: number | null;
    lease_owner: string | null;
    lease_until: number | null;
  };
  event_deliveries: {
    id: string;
    event_id: string;
    event_type: string;
    endpoint_id: string | null;
    format: string;
    url: string;
    payload: string;
    /** 'pending' | 'delivered' | 'failed'. */
    status: string;
    attempts: number;
    next_attempt_at: number;
    lease_owner: string | null;
    lease_until: number | null;
    last_error: string | null;
    last_status: number | null;
    created_at: number;
    delivered_at: number | null;
  };
  webhook_endpoints: {
    id: string;
    url: string;
    /** JSON array of event types. */
    events: string;
    format: string;
    sealed_secret: string;
    created_at: number;
    created_by: string | null;
  };
}

export type EventDatabase = Database & EventTables;

/** The store's kysely instance, seen with the event tables too. */
export const withEventTables = (db: Kysely<Database>) => db as unknown as Kysely<EventDatabase>;
