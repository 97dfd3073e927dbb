import type { SigningKeyStore, StoredSigningKey } from '../ports/index.js';
import { compareIds, type MemoryTables } from './tables.js';

export class MemorySigningKeyStore implements SigningKeyStore {
  constructor(private readonly tables: MemoryTables) {}

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    return [...this.tables.signingKeys.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.kid, b.kid))
      .map((k) => ({ ...k }));
  }

  async createSigningKey(key: StoredSigningKey): Promise<void> {
    if (this.tables.signingKeys.has(key.kid)) throw new Error(`duplicate signing key ${key.kid}`);
    this.tables.signingKeys.set(key.kid, { ...key });
  }

  async updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void> {
    const key = this.tables.signingKeys.get(kid);
    if (key) Object.assign(key, { status, retiredAt });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.tables.signingKeys.delete(kid);
  }
}
