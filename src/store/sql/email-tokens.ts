import type { Kysely, Selectable } from 'kysely';
import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenStore } from '../ports/email-tokens.js';
import type { Database } from './schema.js';
import { type EmailDatabase, withEmailTables } from './schema-email.js';

type TokenRow = Selectable<EmailDatabase['email_tokens']>;

export class SqlEmailTokens implements EmailTokenStore {
  readonly #db: Kysely<EmailDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEmailTables(db);
  }

  async createEmailToken(token: EmailTokenRecord): Promise<void> {
    await this.#db
      .insertInto('email_tokens')
      .values({
        id: token.id,
        user_id: token.userId,
        purpose: token.purpose,
        secret_hash: token.secretHash,
        email: token.email,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        used_at: token.usedAt,
      })
      .execute();
  }

  async findEmailToken(id: string): Promise<EmailTokenRecord | undefined> {
    const row = await this.#db.selectFrom('email_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromTokenRow(row);
  }

  async useEmailToken(id: string, usedAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('email_tokens')
      .set({ used_at: usedAt })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async retireEmailTokens(userId: string, purpose: EmailTokenPurpose, usedAt: number): Promise<number> {
    const result = await this.#db
      .updateTable('email_tokens')
      .set({ used_at: usedAt })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async deleteExpiredEmailTokens(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('email_tokens')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function fromTokenRow(row: TokenRow): EmailTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    purpose: row.purpose as EmailTokenPurpose,
    secretHash: row.secret_hash,
    email: row.email,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
  };
}
