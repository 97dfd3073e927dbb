import type { Kysely, Selectable } from 'kysely';
import type { OAuthClientRecord, OAuthClientStore, OidcClientSettings } from '../ports/index.js';
import type { Database } from './schema.js';

type OAuthClientRow = Selectable<Database['oauth_clients']>;

export class SqlOAuthClientStore implements OAuthClientStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createOAuthClient(client: OAuthClientRecord): Promise<void> {
    await this.db.insertInto('oauth_clients').values(toOAuthClientRow(client)).execute();
  }

  async findOAuthClient(id: string): Promise<OAuthClientRecord | undefined> {
    const row = await this.db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromOAuthClientRow(row);
  }

  async listOAuthClients(): Promise<OAuthClientRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_clients')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromOAuthClientRow);
  }

  async deleteOAuthClient(id: string): Promise<boolean> {
    // Grants and codes go with it (foreign keys, on delete cascade).
    const result = await this.db.deleteFrom('oauth_clients').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

const toOAuthClientRow = (client: OAuthClientRecord): OAuthClientRow => ({
  id: client.id,
  name: client.name,
  type: client.type,
  secret_hash: client.secretHash,
  redirect_uris: JSON.stringify(client.redirectUris),
  scopes: JSON.stringify(client.scopes),
  grant_types: JSON.stringify(client.grantTypes),
  audience: client.audience,
  created_at: client.createdAt,
  oidc: client.oidc ? JSON.stringify(client.oidc) : null,
});

const fromOAuthClientRow = (row: OAuthClientRow): OAuthClientRecord => ({
  id: row.id,
  name: row.name,
  type: row.type as OAuthClientRecord['type'],
  secretHash: row.secret_hash,
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  scopes: JSON.parse(row.scopes) as string[],
  grantTypes: JSON.parse(row.grant_types) as OAuthClientRecord['grantTypes'],
  audience: row.audience,
  createdAt: Number(row.created_at),
  ...(row.oidc !== null && { oidc: JSON.parse(row.oidc) as OidcClientSettings }),
});
