/** One refresh token of a family (a jwt-, hybrid- or oauth-mode SessionRecord). */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  /** SHA-256 (hex) of the secret part. */
  secretHash: string;
  createdAt: number;
  /** When it was exchanged (or superseded); null while it is the live token. */
  retiredAt: number | null;
}

/** The refresh-token aggregate. Every write that retires tokens is one atomic statement or transaction. */
export interface RefreshTokenStore {
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * One refresh rotation, all or nothing: if `retireId` is live, retire it and every other live
   * token of its family (at `next.createdAt`) and store `next`; true. Otherwise change nothing;
   * false. Of racing calls exactly one sees true; a crash midway leaves the old token valid or
   * the new one, never neither or both.
   */
  rotateRefreshToken(retireId: string, next: RefreshTokenRecord): Promise<boolean>;
  /** Retires every live token of the family except `keepId`. */
  retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void>;
}
