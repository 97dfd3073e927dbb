import type { DeliveryRecord } from './deliveries.js';

/**
 * Security events, durable (issue 21): what happened that other systems must hear about (a
 * login ended, an account locked, a password changed …), written in the same transaction as
 * the change where the change is a login ending (LoginEndingStore.endLogins), and then fanned
 * out, once, into HTTP deliveries (ports/deliveries.ts). The fan-out is itself leased per event
 * and commits the event's deliveries with its own completion, so a crash between the event and
 * its deliveries loses nothing and duplicates nothing. Times are epoch milliseconds.
 */
export interface SecurityEventRecord {
  /** Random, unique: deliveries derive their ids (webhook-id, SET jti) from it. */
  id: string;
  /** A public event type (core/security-events.ts, SECURITY_EVENT_TYPES), e.g. `session.revoked`. */
  type: string;
  at: number;
  /** The user it concerns, when there is one (null: everyone, or the system). */
  userId: string | null;
  /** Event data as JSON text: ids and facts, never a secret, a password or a token. */
  data: string;
}

/** One login an ending ended, as events carry it. */
export interface EndedLogin {
  /** The login (session or refresh-token family) id: the tokens' `sid`. */
  id: string;
  userId: string;
  /** Set when the login was an OAuth delegation (mode `oauth`): the client it was delegated to. */
  clientId?: string;
}

/** The fan-out's lease on an event (compare-and-set, like the mail outbox's). */
export interface ClaimedSecurityEvent extends SecurityEventRecord {
  leaseOwner: string;
}

export interface SecurityEventStore {
  /** Appends an event on its own (events that do not end logins; endLogins writes its own). */
  appendSecurityEvent(event: SecurityEventRecord): Promise<void>;
  /**
   * Leases up to `limit` events not yet fanned out, oldest first, that nobody else holds a live
   * lease on; two nodes never both win one.
   */
  claimSecurityEvents(
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<ClaimedSecurityEvent[]>;
  /**
   * The event's fan-out, all or nothing: its deliveries inserted and the event marked fanned out
   * in one transaction, only while `owner` still holds the lease (false: nothing written).
   */
  completeFanout(
    eventId: string,
    owner: string,
    fannedOutAt: number,
    deliveries: readonly DeliveryRecord[],
  ): Promise<boolean>;
  /** Newest first (operators, tests). */
  listSecurityEvents(filter: {
    type?: string;
    limit: number;
  }): Promise<Array<SecurityEventRecord & { fannedOutAt: number | null }>>;
  /** Deletes fanned-out events created before `before`; returns how many. */
  deleteFannedOutEventsBefore(before: number): Promise<number>;
}
