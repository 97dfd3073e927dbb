/**
 * A revocation hybrid nodes must know about: one login (`session`, subject = sid), every
 * token of a user issued before `at` (`user`, subject = user id), or every token issued before
 * `at` (`all`, subject = '*'). Kept until `expiresAt`, when no token it could affect is valid.
 */
export interface RevocationRecord {
  /** Assigned by the store: a total order across nodes. */
  seq: number;
  kind: 'session' | 'user' | 'all';
  subject: string;
  at: number;
  expiresAt: number;
}

export interface RevocationStore {
  /** Appends and returns the record with its sequence number. */
  appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord>;
  /** Records with seq > afterSeq and still in force at `now`, in seq order. */
  listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]>;
  deleteExpiredRevocations(now: number): Promise<number>;
}
