/** A single-use authorization code (`<id>.<secret>`), bound to client, redirect URI and PKCE challenge. */
export interface AuthorizationCodeRecord {
  id: string;
  secretHash: string;
  clientId: string;
  userId: string;
  /** The id the login (refresh-token family) exchanging this code gets: a reused code revokes it. */
  sessionId: string;
  redirectUri: string;
  /** BASE64URL(SHA-256(code_verifier)) (S256, the only method). */
  codeChallenge: string;
  scopes: string[];
  audience: string;
  createdAt: number;
  expiresAt: number;
  /** When it was exchanged; null while unused. */
  usedAt: number | null;
}

export interface AuthorizationCodeStore {
  createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>;
  findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined>;
  /** Atomically marks an unused code used: true for exactly one of any number of racing calls. */
  useAuthorizationCode(id: string, usedAt: number): Promise<boolean>;
  /** Deletes codes with `expiresAt < before`; returns how many. */
  deleteExpiredAuthorizationCodes(before: number): Promise<number>;
}
