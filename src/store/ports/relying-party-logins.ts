/**
 * OpenID Connect: one relying party's sign-in through one browser login. When that browser
 * login ends, for whatever reason, each relying party it signed into is sent a back-channel
 * logout token (`sid` derived from `sessionId`). Keyed by the delegation (the OAuth login the
 * code exchange made), so a refresh can issue an ID token naming the same browser login.
 */
export interface RelyingPartyLoginRecord {
  /** The OAuth login (refresh-token family) the code exchange created. */
  delegationId: string;
  /** The browser login (first-party session) the user signed in with. */
  sessionId: string;
  clientId: string;
  userId: string;
  /** When the browser login authenticated the user (ms). */
  authTime: number;
  createdAt: number;
}

export interface RelyingPartyLoginStore {
  /** Inserted by redeemAuthorizationCode in its transaction; this one is for tests and tools. */
  recordRelyingPartyLogin(login: RelyingPartyLoginRecord): Promise<void>;
  findRelyingPartyLogin(delegationId: string): Promise<RelyingPartyLoginRecord | undefined>;
  /** Every relying-party login of these browser logins, oldest first. */
  listRelyingPartyLogins(sessionIds: readonly string[]): Promise<RelyingPartyLoginRecord[]>;
  /** Forgets the relying-party logins of these browser logins (once they were told); how many. */
  deleteRelyingPartyLogins(sessionIds: readonly string[]): Promise<number>;
  /** Deletes rows created before `before` (older than any login can live); how many. */
  deleteRelyingPartyLoginsBefore(before: number): Promise<number>;
}
