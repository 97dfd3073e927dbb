import type { Kysely } from 'kysely';
import type { EmailVerificationStore } from '../ports/email-verifications.js';
import type { Database } from './schema.js';
import { type EmailDatabase, withEmailTables } from './schema-email.js';

export class SqlEmailVerifications implements EmailVerificationStore {
  readonly #db: Kysely<EmailDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEmailTables(db);
  }

  async markEmailVerified(userId: string, email: string, at: number): Promise<void> {
    await this.#db
      .insertInto('email_verifications')
      .values({ user_id: userId, email, verified_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ email, verified_at: at }))
      .execute();
  }

  async verifiedEmail(userId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('email_verifications')
      .select('email')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.email;
  }

  async verifiedEmails(userIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    // In slices: SQLite allows at most 32,766 bound parameters per statement.
    for (let start = 0; start < userIds.length; start += 500) {
      const rows = await this.#db
        .selectFrom('email_verifications')
        .select(['user_id', 'email'])
        .where('user_id', 'in', userIds.slice(start, start + 500))
        .execute();
      for (const row of rows) found.set(row.user_id, row.email);
    }
    return found;
  }
}
