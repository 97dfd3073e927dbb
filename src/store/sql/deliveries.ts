import { type Kysely, type Selectable, sql } from 'kysely';
import type { DeliveryOutboxStore, DeliveryRecord, DeliveryStatus } from '../ports/index.js';
import { claimLeased } from './leases.js';
import type { Database } from './schema.js';
import { type EventDatabase, withEventTables } from './schema-events.js';

type DeliveryRow = Selectable<EventDatabase['event_deliveries']>;

/** The HTTP delivery outbox on SQLite and PostgreSQL: leases are conditional UPDATEs (leases.ts). */
export class SqlDeliveryOutbox implements DeliveryOutboxStore {
  readonly #db: Kysely<EventDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEventTables(db);
  }

  async claimDeliveries(
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<DeliveryRecord[]> {
    const rows = await claimLeased<DeliveryRow>(this.#db, 'event_deliveries', {
      now,
      owner,
      leaseUntil,
      limit,
      where: [
        ['status', '=', 'pending'],
        ['next_attempt_at', '<=', now],
      ],
      orderBy: 'next_attempt_at',
    });
    return rows.map(fromDeliveryRow);
  }

  async markDelivered(id: string, owner: string, deliveredAt: number, status: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('event_deliveries')
      .set({
        status: 'delivered',
        delivered_at: deliveredAt,
        attempts: sql`attempts + 1`,
        last_status: status,
        last_error: null,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markDeliveryFailed(
    id: string,
    owner: string,
    failure: {
      attempts: number;
      nextAttemptAt: number;
      error: string;
      status: number | null;
      final: boolean;
    },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('event_deliveries')
      .set({
        status: failure.final ? 'failed' : 'pending',
        attempts: failure.attempts,
        next_attempt_at: failure.nextAttemptAt,
        last_error: failure.error,
        last_status: failure.status,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async findDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.#db
      .selectFrom('event_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromDeliveryRow(row);
  }

  async listDeliveries(filter: {
    endpointId?: string;
    status?: DeliveryStatus;
    limit: number;
    before?: { createdAt: number; id: string };
  }): Promise<DeliveryRecord[]> {
    let query = this.#db.selectFrom('event_deliveries').selectAll();
    if (filter.endpointId !== undefined) query = query.where('endpoint_id', '=', filter.endpointId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const before = filter.before;
    if (before) {
      query = query.where((eb) =>
        eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(fromDeliveryRow);
  }

  async retryDelivery(id: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('event_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async abandonEndpointDeliveries(endpointId: string, reason: string): Promise<number> {
    const result = await this.#db
      .updateTable('event_deliveries')
      .set({ status: 'failed', last_error: reason, lease_owner: null, lease_until: null })
      .where('endpoint_id', '=', endpointId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async countDeliveries(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.#db
      .selectFrom('event_deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0 };
    for (const row of rows) counts[row.status as DeliveryStatus] = Number(row.n);
    return counts;
  }

  async deleteDeliveriesBefore(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('event_deliveries')
      .where('status', '!=', 'pending')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export const toDeliveryRow = (d: DeliveryRecord): DeliveryRow => ({
  id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  endpoint_id: d.endpointId,
  format: d.format,
  url: d.url,
  payload: d.payload,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt,
  lease_owner: d.leaseOwner,
  lease_until: d.leaseUntil,
  last_error: d.lastError,
  last_status: d.lastStatus,
  created_at: d.createdAt,
  delivered_at: d.deliveredAt,
});

const fromDeliveryRow = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  eventId: row.event_id,
  eventType: row.event_type,
  endpointId: row.endpoint_id,
  format: row.format,
  url: row.url,
  payload: row.payload,
  status: row.status as DeliveryStatus,
  attempts: Number(row.attempts),
  nextAttemptAt: Number(row.next_attempt_at),
  leaseOwner: row.lease_owner,
  leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
  lastError: row.last_error,
  lastStatus: row.last_status === null ? null : Number(row.last_status),
  createdAt: Number(row.created_at),
  deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
});
