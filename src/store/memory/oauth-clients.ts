import type { OAuthClientRecord, OAuthClientStore } from '../ports/index.js';
import { compareIds, type MemoryTables } from './tables.js';

export class MemoryOAuthClientStore implements OAuthClientStore {
  constructor(private readonly tables: MemoryTables) {}

  async createOAuthClient(client: OAuthClientRecord): Promise<void> {
    if (this.tables.oauthClients.has(client.id)) throw new Error(`duplicate oauth client id ${client.id}`);
    this.tables.oauthClients.set(client.id, copyClient(client));
  }

  async findOAuthClient(id: string): Promise<OAuthClientRecord | undefined> {
    const client = this.tables.oauthClients.get(id);
    return client && copyClient(client);
  }

  async listOAuthClients(): Promise<OAuthClientRecord[]> {
    return [...this.tables.oauthClients.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id))
      .map(copyClient);
  }

  async deleteOAuthClient(id: string): Promise<boolean> {
    return this.tables.deleteClientCascade(id);
  }
}

const copyClient = (client: OAuthClientRecord): OAuthClientRecord => ({
  ...client,
  redirectUris: [...client.redirectUris],
  scopes: [...client.scopes],
  grantTypes: [...client.grantTypes],
  ...(client.oidc && {
    oidc: { ...client.oidc, postLogoutRedirectUris: [...client.oidc.postLogoutRedirectUris] },
  }),
});
