import type { Kysely, Selectable } from 'kysely';
import type {
  ClaimedSecurityEvent,
  DeliveryRecord,
  SecurityEventRecord,
  SecurityEventStore,
} from '../ports/index.js';
import { toDeliveryRow } from './deliveries.js';
import { claimLeased } from './leases.js';
import type { Database } from './schema.js';
import { type EventDatabase, withEventTables } from './schema-events.js';
import { inTransaction } from './transaction.js';

type EventRow = Selectable<EventDatabase['security_events']>;

/** Security events and their fan-out lease on SQLite and PostgreSQL. */
export class SqlSecurityEventStore implements SecurityEventStore {
  readonly #db: Kysely<EventDatabase>;

  constructor(private readonly db: Kysely<Database>) {
    this.#db = withEventTables(db);
  }

  async appendSecurityEvent(event: SecurityEventRecord): Promise<void> {
    await insertSecurityEvent(this.#db, event);
  }

  async claimSecurityEvents(
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<ClaimedSecurityEvent[]> {
    const rows = await claimLeased<EventRow>(this.#db, 'security_events', {
      now,
      owner,
      leaseUntil,
      limit,
      where: [['fanned_out_at', 'is', null]],
      orderBy: 'at',
    });
    return rows.map((row) => ({ ...fromEventRow(row), leaseOwner: owner }));
  }

  completeFanout(
    eventId: string,
    owner: string,
    fannedOutAt: number,
    deliveries: readonly DeliveryRecord[],
  ): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const db = withEventTables(trx);
      const result = await db
        .updateTable('security_events')
        .set({ fanned_out_at: fannedOutAt, lease_owner: null, lease_until: null })
        .where('id', '=', eventId)
        .where('lease_owner', '=', owner)
        .where('fanned_out_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      // Chunked: SQLite limits the bound parameters of one statement.
      for (let i = 0; i < deliveries.length; i += 50) {
        await db
          .insertInto('event_deliveries')
          .values(deliveries.slice(i, i + 50).map(toDeliveryRow))
          .execute();
      }
      return true;
    });
  }

  async listSecurityEvents(filter: { type?: string; limit: number }) {
    let query = this.#db.selectFrom('security_events').selectAll();
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map((row) => ({
      ...fromEventRow(row),
      fannedOutAt: row.fanned_out_at === null ? null : Number(row.fanned_out_at),
    }));
  }

  async deleteFannedOutEventsBefore(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('security_events')
      .where('fanned_out_at', 'is not', null)
      .where('at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** One event row; also written by endLogins inside its transaction. */
export async function insertSecurityEvent(
  db: Kysely<EventDatabase>,
  event: SecurityEventRecord,
): Promise<void> {
  await db
    .insertInto('security_events')
    .values({
      id: event.id,
      type: event.type,
      at: event.at,
      user_id: event.userId,
      data: event.data,
      fanned_out_at: null,
      lease_owner: null,
      lease_until: null,
    })
    .execute();
}

const fromEventRow = (row: EventRow): SecurityEventRecord => ({
  id: row.id,
  type: row.type,
  at: Number(row.at),
  userId: row.user_id,
  data: row.data,
});
