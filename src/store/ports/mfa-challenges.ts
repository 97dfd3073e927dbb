/**
 * The pending step between a password and a login (issue 18): `POST /auth/login` of a user with
 * a second factor makes one instead of a login. Opaque `<id>.<secret>` in an HttpOnly cookie
 * (or `mfaToken` for bearer clients); only the SHA-256 of the secret is stored. It opens
 * nothing but the second step, lives 5 minutes, and is used once.
 */
export interface MfaChallengeRecord {
  id: string;
  secretHash: string;
  userId: string;
  /** `verify`: the user has a factor and must use it. `enrol`: the policy demands one first. */
  purpose: 'verify' | 'enrol';
  /** What the first step proved (RFC 8176 amr, e.g. ["pwd"]): joined to the factor's at the end. */
  amr: string[];
  createdAt: number;
  expiresAt: number;
}

export interface MfaChallengeStore {
  createMfaChallenge(challenge: MfaChallengeRecord): Promise<void>;
  findMfaChallenge(id: string): Promise<MfaChallengeRecord | undefined>;
  /** Takes the challenge: true for exactly one of racing takers (single use). */
  deleteMfaChallenge(id: string): Promise<boolean>;
  /** Deletes every challenge of the user (their factors were reset, or they logged in). */
  deleteUserMfaChallenges(userId: string): Promise<number>;
  deleteExpiredMfaChallenges(now: number): Promise<number>;
}
