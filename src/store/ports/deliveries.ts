/**
 * The HTTP delivery outbox (issue 21): one row per (event, destination), claimed by the
 * delivery worker of any node with a lease (owner + until, compare-and-set like the mail
 * outbox), retried with backoff, then `failed`. At least once: a node that crashes after the
 * receiver accepted but before recording it leaves the lease to run out and another node sends
 * again, with the same id (webhook-id, SET jti), so receivers detect the duplicate.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  /** Stable across retries: the webhook-id header / the SET's jti. */
  id: string;
  eventId: string;
  eventType: string;
  /**
   * Who it is for: a webhook endpoint's id, or (other fan-outs) e.g. a relying party's client
   * id; the format's encoder interprets it. Null: no registered subscriber.
   */
  endpointId: string | null;
  /** How the payload is encoded and signed at send time: 'standard', 'set', or a registered format. */
  format: string;
  url: string;
  /** JSON text the format encodes; never a secret. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** The last failure as the receiver or the socket said it (bounded, no secret). */
  lastError: string | null;
  /** The receiver's last HTTP status (null: no answer). */
  lastStatus: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface DeliveryOutboxStore {
  /** Leases up to `limit` pending deliveries due at `now`, oldest due first; compare-and-set per row. */
  claimDeliveries(now: number, owner: string, leaseUntil: number, limit: number): Promise<DeliveryRecord[]>;
  /** The receiver accepted it. Only by the lease holder. */
  markDelivered(id: string, owner: string, deliveredAt: number, status: number): Promise<boolean>;
  /** A failed attempt: back to pending at `nextAttemptAt`, or `failed` when `final`. Only by the lease holder. */
  markDeliveryFailed(
    id: string,
    owner: string,
    failure: {
      attempts: number;
      nextAttemptAt: number;
      error: string;
      status: number | null;
      final: boolean;
    },
  ): Promise<boolean>;
  findDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** Newest first; an endpoint's, or all; `before` (createdAt, id) pages. */
  listDeliveries(filter: {
    endpointId?: string;
    status?: DeliveryStatus;
    limit: number;
    before?: { createdAt: number; id: string };
  }): Promise<DeliveryRecord[]>;
  /** Back to pending now, attempts reset (an operator's replay); false when there is no such delivery. */
  retryDelivery(id: string, now: number): Promise<boolean>;
  /** Pending deliveries of a removed endpoint stop: failed with `reason`; returns how many. */
  abandonEndpointDeliveries(endpointId: string, reason: string): Promise<number>;
  /** Counts by status (operators, metrics). */
  countDeliveries(): Promise<Record<DeliveryStatus, number>>;
  /** Deletes delivered and failed deliveries created before `before`; returns how many. */
  deleteDeliveriesBefore(before: number): Promise<number>;
}
