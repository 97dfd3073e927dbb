import type { OAuthGrantRecord, OAuthGrantStore } from '../ports/index.js';
import { compareIds, type MemoryTables } from './tables.js';

export class MemoryOAuthGrantStore implements OAuthGrantStore {
  constructor(private readonly tables: MemoryTables) {}

  async saveOAuthGrant(grant: OAuthGrantRecord): Promise<void> {
    if (!this.tables.users.has(grant.userId)) throw new Error(`no user ${grant.userId}`);
    if (!this.tables.oauthClients.has(grant.clientId)) throw new Error(`no oauth client ${grant.clientId}`);
    const key = grantKey(grant.userId, grant.clientId);
    const createdAt = this.tables.oauthGrants.get(key)?.createdAt ?? grant.createdAt;
    this.tables.oauthGrants.set(key, { ...grant, scopes: [...grant.scopes], createdAt });
  }

  async findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined> {
    const grant = this.tables.oauthGrants.get(grantKey(userId, clientId));
    return grant && { ...grant, scopes: [...grant.scopes] };
  }

  async listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]> {
    return [...this.tables.oauthGrants.values()]
      .filter((g) => g.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.clientId, b.clientId))
      .map((g) => ({ ...g, scopes: [...g.scopes] }));
  }

  async touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void> {
    const grant = this.tables.oauthGrants.get(grantKey(userId, clientId));
    if (grant) grant.lastUsedAt = lastUsedAt;
  }

  async deleteOAuthGrant(userId: string, clientId: string): Promise<boolean> {
    return this.tables.oauthGrants.delete(grantKey(userId, clientId));
  }
}

const grantKey = (userId: string, clientId: string) => `${userId} ${clientId}`;
