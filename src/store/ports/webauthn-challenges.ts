/**
 * WebAuthn challenges: single-use, short-lived, and stored only as the SHA-256 of the challenge
 * (the challenge comes back inside the signed clientDataJSON, so the hash is the lookup key and
 * a database reader cannot answer one). Each is bound to what it was issued for.
 */
export type WebAuthnPurpose = 'register' | 'login' | 'second_factor' | 'reauthenticate';

export interface WebAuthnChallengeRecord {
  /** SHA-256 of the challenge, base64url. */
  challengeHash: string;
  purpose: WebAuthnPurpose;
  /** The user it was issued to (all but `login`, which names nobody: usernameless). */
  userId: string | null;
  /** The login or pending login it was issued in, when there is one (binding, not lookup). */
  bindingId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface WebAuthnChallengeStore {
  createChallenge(challenge: WebAuthnChallengeRecord): Promise<void>;
  /** Deletes and returns it: exactly one of any number of racing takers gets it. */
  takeChallenge(challengeHash: string): Promise<WebAuthnChallengeRecord | undefined>;
  /** Deletes challenges that expired before `before`; returns how many. */
  deleteExpiredChallenges(before: number): Promise<number>;
}
