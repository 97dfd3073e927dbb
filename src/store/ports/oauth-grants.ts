/** A user's standing consent: this client may have these scopes without asking again. */
export interface OAuthGrantRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number;
}

export interface OAuthGrantStore {
  /** Creates the grant, or replaces its scopes and lastUsedAt (createdAt is kept). */
  saveOAuthGrant(grant: OAuthGrantRecord): Promise<void>;
  findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined>;
  /** Oldest first. */
  listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]>;
  touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void>;
  deleteOAuthGrant(userId: string, clientId: string): Promise<boolean>;
}
