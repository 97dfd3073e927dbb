import type { ApiKeyRecord, ApiKeyStore } from '../ports/index.js';
import { compareIds, type MemoryTables } from './tables.js';

export class MemoryApiKeyStore implements ApiKeyStore {
  constructor(private readonly tables: MemoryTables) {}

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    if (this.tables.apiKeys.has(key.id)) throw new Error(`duplicate api key id ${key.id}`);
    if (!this.tables.users.has(key.userId)) throw new Error(`no user ${key.userId}`);
    this.tables.apiKeys.set(key.id, { ...key, scopes: [...key.scopes] });
  }

  async findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const key = this.tables.apiKeys.get(id);
    return key && { ...key, scopes: [...key.scopes] };
  }

  async listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]> {
    return [...this.tables.apiKeys.values()]
      .filter((k) => filter.userId === undefined || k.userId === filter.userId)
      .sort((a, b) => b.createdAt - a.createdAt || compareIds(b.id, a.id))
      .map((k) => ({ ...k, scopes: [...k.scopes] }));
  }

  async revokeApiKey(id: string, revokedAt: number): Promise<boolean> {
    const key = this.tables.apiKeys.get(id);
    if (!key || key.revokedAt !== null) return false;
    key.revokedAt = revokedAt;
    return true;
  }

  async touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    const key = this.tables.apiKeys.get(id);
    if (key) key.lastUsedAt = lastUsedAt;
  }
}
