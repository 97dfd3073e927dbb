import type { Kysely, Selectable } from 'kysely';
import type { RelyingPartyLoginRecord, RelyingPartyLoginStore } from '../ports/index.js';
import type { Database } from './schema.js';

type Row = Selectable<Database['oidc_rp_logins']>;

export class SqlRelyingPartyLoginStore implements RelyingPartyLoginStore {
  constructor(private readonly db: Kysely<Database>) {}

  async recordRelyingPartyLogin(login: RelyingPartyLoginRecord): Promise<void> {
    await this.db.insertInto('oidc_rp_logins').values(toRelyingPartyLoginRow(login)).execute();
  }

  async findRelyingPartyLogin(delegationId: string): Promise<RelyingPartyLoginRecord | undefined> {
    const row = await this.db
      .selectFrom('oidc_rp_logins')
      .selectAll()
      .where('delegation_id', '=', delegationId)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async listRelyingPartyLogins(sessionIds: readonly string[]): Promise<RelyingPartyLoginRecord[]> {
    if (sessionIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('oidc_rp_logins')
      .selectAll()
      .where('session_id', 'in', [...sessionIds])
      .orderBy('created_at')
      .orderBy('delegation_id')
      .execute();
    return rows.map(fromRow);
  }

  async deleteRelyingPartyLogins(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const result = await this.db
      .deleteFrom('oidc_rp_logins')
      .where('session_id', 'in', [...sessionIds])
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteRelyingPartyLoginsBefore(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oidc_rp_logins')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export const toRelyingPartyLoginRow = (login: RelyingPartyLoginRecord): Row => ({
  delegation_id: login.delegationId,
  session_id: login.sessionId,
  client_id: login.clientId,
  user_id: login.userId,
  auth_time: login.authTime,
  created_at: login.createdAt,
});

const fromRow = (row: Row): RelyingPartyLoginRecord => ({
  delegationId: row.delegation_id,
  sessionId: row.session_id,
  clientId: row.client_id,
  userId: row.user_id,
  authTime: Number(row.auth_time),
  createdAt: Number(row.created_at),
});
