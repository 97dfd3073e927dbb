import type { Kysely } from 'kysely';
import type {
  WebAuthnChallengeRecord,
  WebAuthnChallengeStore,
  WebAuthnPurpose,
} from '../ports/webauthn-challenges.js';
import type { Database } from './schema.js';
import { type PasskeyDatabase, withPasskeyTables } from './schema-passkeys.js';

export class SqlWebAuthnChallenges implements WebAuthnChallengeStore {
  readonly #db: Kysely<PasskeyDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withPasskeyTables(db);
  }

  async createChallenge(challenge: WebAuthnChallengeRecord): Promise<void> {
    await this.#db
      .insertInto('webauthn_challenges')
      .values({
        challenge_hash: challenge.challengeHash,
        purpose: challenge.purpose,
        user_id: challenge.userId,
        binding_id: challenge.bindingId,
        created_at: challenge.createdAt,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async takeChallenge(challengeHash: string): Promise<WebAuthnChallengeRecord | undefined> {
    // DELETE … RETURNING: the database gives the row to exactly one of racing takers.
    const row = await this.#db
      .deleteFrom('webauthn_challenges')
      .where('challenge_hash', '=', challengeHash)
      .returningAll()
      .executeTakeFirst();
    return (
      row && {
        challengeHash: row.challenge_hash,
        purpose: row.purpose as WebAuthnPurpose,
        userId: row.user_id,
        bindingId: row.binding_id,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async deleteExpiredChallenges(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('webauthn_challenges')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
