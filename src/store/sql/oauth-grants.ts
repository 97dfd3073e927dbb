import type { Kysely, Selectable } from 'kysely';
import type { OAuthGrantRecord, OAuthGrantStore } from '../ports/index.js';
import type { Database } from './schema.js';

type OAuthGrantRow = Selectable<Database['oauth_grants']>;

export class SqlOAuthGrantStore implements OAuthGrantStore {
  constructor(private readonly db: Kysely<Database>) {}

  async saveOAuthGrant(grant: OAuthGrantRecord): Promise<void> {
    const scopes = JSON.stringify(grant.scopes);
    await this.db
      .insertInto('oauth_grants')
      .values({
        user_id: grant.userId,
        client_id: grant.clientId,
        scopes,
        created_at: grant.createdAt,
        last_used_at: grant.lastUsedAt,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes, last_used_at: grant.lastUsedAt }),
      )
      .execute();
  }

  async findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined> {
    const row = await this.db
      .selectFrom('oauth_grants')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && fromOAuthGrantRow(row);
  }

  async listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_grants')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('client_id')
      .execute();
    return rows.map(fromOAuthGrantRow);
  }

  async touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void> {
    await this.db
      .updateTable('oauth_grants')
      .set({ last_used_at: lastUsedAt })
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .execute();
  }

  async deleteOAuthGrant(userId: string, clientId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('oauth_grants')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

const fromOAuthGrantRow = (row: OAuthGrantRow): OAuthGrantRecord => ({
  userId: row.user_id,
  clientId: row.client_id,
  scopes: JSON.parse(row.scopes) as string[],
  createdAt: Number(row.created_at),
  lastUsedAt: Number(row.last_used_at),
});
