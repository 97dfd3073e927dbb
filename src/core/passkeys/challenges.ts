import { createHash } from 'node:crypto';
import type { WebAuthnChallengeStore, WebAuthnPurpose } from '../../store/ports/webauthn-challenges.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** Long enough to finish a browser prompt (which times out at the same 5 minutes), short enough to be useless later. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** 256 bits from the CSPRNG (WebAuthn asks for at least 16 bytes). */
const CHALLENGE_BYTES = 32;
/** A clientDataJSON is a few hundred bytes; anything longer is not one. */
const MAX_CLIENT_DATA_BYTES = 4096;

export interface ChallengeBinding {
  purpose: WebAuthnPurpose;
  /** The user it is for; null for a usernameless login. */
  userId: string | null;
  /** The login (register, reauthenticate) or pending login (second factor) it was issued in. */
  bindingId: string | null;
}

const hashOf = (challenge: string) => createHash('sha256').update(challenge).digest('base64url');

/**
 * Single-use WebAuthn challenges. Only the SHA-256 of a challenge is stored: the browser puts
 * the challenge into the signed clientDataJSON, so the hash of what comes back is the lookup
 * key, no id travels beside it, and a database reader cannot answer a challenge. Taking one
 * deletes it (a replayed response finds nothing), whatever the verification then decides.
 */
export class WebAuthnChallenges {
  constructor(
    private readonly store: WebAuthnChallengeStore,
    private readonly runtime: Runtime,
  ) {}

  async issue(binding: ChallengeBinding): Promise<string> {
    const challenge = this.runtime.randomBytes(CHALLENGE_BYTES).toString('base64url');
    const now = this.runtime.now();
    await this.store.createChallenge({
      challengeHash: hashOf(challenge),
      ...binding,
      createdAt: now,
      expiresAt: now + CHALLENGE_TTL_MS,
    });
    return challenge;
  }

  /**
   * The challenge a response answers, taken from the store: it must exist, be unexpired, and
   * have been issued for exactly this purpose, user and binding. 401 passkey_challenge_invalid
   * otherwise (a replay, a challenge from another login or for something else).
   */
  async take(clientDataJSON: string, expected: ChallengeBinding): Promise<string> {
    const challenge = challengeIn(clientDataJSON);
    if (!challenge) throw new AuthError('passkey_challenge_invalid');
    const stored = await this.store.takeChallenge(hashOf(challenge));
    if (
      !stored ||
      stored.expiresAt <= this.runtime.now() ||
      stored.purpose !== expected.purpose ||
      stored.userId !== expected.userId ||
      stored.bindingId !== expected.bindingId
    ) {
      throw new AuthError('passkey_challenge_invalid');
    }
    return challenge;
  }

  sweep(): Promise<number> {
    return this.store.deleteExpiredChallenges(this.runtime.now());
  }
}

/** The `challenge` member of a base64url clientDataJSON, or undefined when it has none. */
function challengeIn(clientDataJSON: string): string | undefined {
  if (clientDataJSON.length > (MAX_CLIENT_DATA_BYTES * 4) / 3 + 4) return undefined;
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(challenge) ? challenge : undefined;
  } catch {
    return undefined;
  }
}
