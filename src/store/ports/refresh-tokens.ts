/** One refresh token of a family (a jwt-, hybrid- or oauth-mode SessionRecord). */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  /** SHA-256 (hex) of the secret part. */
  secretHash: string;
  createdAt: number;
  /** When it was exchanged (or superseded); null while it is the live token. */
  retiredAt: number | null;
  /**
   * Set when this token was exchanged: its successor, sealed under a key only the holder of
   * this token's secret can derive (core/refresh-rotation.ts), so a retry within the grace
   * window gets that same successor back. null while live, and for a token retired with no
   * grace (superseded by a sibling's exchange, a password change): presenting it is reuse.
   * Only the family's latest exchanged token keeps one: every rotation and retirement clears
   * the others', so someone reading the database with an older spent token cannot follow the
   * chain of successors to the live token.
   */
  successor: string | null;
}

/** The refresh-token aggregate. Every write that retires tokens is one atomic statement or transaction. */
export interface RefreshTokenStore {
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * One refresh rotation, all or nothing: if `retireId` is live, retire it (recording
   * `successor`) and every other live token of its family, all at `next.createdAt`, clear
   * every other token's successor (no grace), and store `next`; true. Otherwise change nothing; false. Of racing calls
   * exactly one sees true; a crash midway leaves the old token valid or the new one, never
   * neither or both.
   */
  rotateRefreshToken(retireId: string, next: RefreshTokenRecord, successor: string): Promise<boolean>;
  /** Retires every live token of the family except `keepId`, and clears every successor (no grace). */
  retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void>;
}
