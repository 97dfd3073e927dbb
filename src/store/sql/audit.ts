import type { Kysely, Selectable } from 'kysely';
import type { AuditEvent, AuditFilter, AuditStore } from '../ports/index.js';
import type { Database } from './schema.js';

type AuditEventRow = Selectable<Database['audit_events']>;

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async appendAuditEvent(event: AuditEvent): Promise<void> {
    await this.db.insertInto('audit_events').values(toAuditEventRow(event)).execute();
  }

  async listAuditEvents(filter: AuditFilter): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    const before = filter.before;
    if (before) {
      // A row comparison, so the (at, id) index range starts there (see SqlSessionStore.listSessionsPage).
      query = query.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(before.at, before.id)));
    }
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(fromAuditEventRow);
  }

  async deleteAuditEventsBefore(before: number): Promise<number> {
    const result = await this.db.deleteFrom('audit_events').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

const toAuditEventRow = (event: AuditEvent): AuditEventRow => ({
  id: event.id,
  at: event.at,
  type: event.type,
  actor_id: event.actorId,
  user_id: event.userId,
  session_id: event.sessionId,
  ip: event.ip,
  user_agent: event.userAgent,
  detail: event.detail,
});

const fromAuditEventRow = (row: AuditEventRow): AuditEvent => ({
  id: row.id,
  at: Number(row.at),
  type: row.type,
  actorId: row.actor_id,
  userId: row.user_id,
  sessionId: row.session_id,
  ip: row.ip,
  userAgent: row.user_agent,
  detail: row.detail,
});
