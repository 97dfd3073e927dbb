/** A user's API key (`tsr_<id>.<secret>`) for scripts and services the user owns. */
export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  /** SHA-256 (hex) of the secret part. */
  secretHash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  /** When it was revoked; null while it works. */
  revokedAt: number | null;
}

export interface ApiKeyStore {
  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first; every user's without `userId`. */
  listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]>;
  /** True when this call revoked a key that was not revoked yet. */
  revokeApiKey(id: string, revokedAt: number): Promise<boolean>;
  touchApiKey(id: string, lastUsedAt: number): Promise<void>;
}
