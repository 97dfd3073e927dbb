import type { Kysely } from 'kysely';
import type { MfaChallengeRecord, MfaChallengeStore } from '../ports/mfa-challenges.js';
import type { Database } from './schema.js';
import { type MfaDatabase, withMfaTables } from './schema-mfa.js';

export class SqlMfaChallenges implements MfaChallengeStore {
  readonly #db: Kysely<MfaDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withMfaTables(db);
  }

  async createMfaChallenge(challenge: MfaChallengeRecord): Promise<void> {
    await this.#db
      .insertInto('mfa_challenges')
      .values({
        id: challenge.id,
        secret_hash: challenge.secretHash,
        user_id: challenge.userId,
        purpose: challenge.purpose,
        amr: JSON.stringify(challenge.amr),
        created_at: challenge.createdAt,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async findMfaChallenge(id: string): Promise<MfaChallengeRecord | undefined> {
    const row = await this.#db
      .selectFrom('mfa_challenges')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        secretHash: row.secret_hash,
        userId: row.user_id,
        purpose: row.purpose === 'enrol' ? 'enrol' : 'verify',
        amr: JSON.parse(row.amr) as string[],
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async deleteMfaChallenge(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('mfa_challenges').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteUserMfaChallenges(userId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('mfa_challenges')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteExpiredMfaChallenges(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('mfa_challenges')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
