import type { Kysely, Selectable } from 'kysely';
import type { RefreshTokenRecord, RefreshTokenStore } from '../ports/index.js';
import type { Database } from './schema.js';
import { inTransaction } from './transaction.js';

type RefreshTokenRow = Selectable<Database['refresh_tokens']>;

export class SqlRefreshTokenStore implements RefreshTokenStore {
  constructor(protected readonly db: Kysely<Database>) {}

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(toRefreshTokenRow(token)).execute();
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromRefreshTokenRow(row);
  }

  async rotateRefreshToken(retireId: string, next: RefreshTokenRecord, successor: string): Promise<boolean> {
    // The first UPDATE is the compare-and-set: the database serialises racing rotations, so
    // only one sees a row change; the rest of the transaction is then that rotation's alone.
    return inTransaction(this.db, async (trx) => {
      const retired = await trx
        .updateTable('refresh_tokens')
        .set({ retired_at: next.createdAt, successor })
        .where('id', '=', retireId)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (retired.numUpdatedRows === 0n) return false;
      await trx
        .updateTable('refresh_tokens')
        .set({ retired_at: next.createdAt })
        .where('session_id', '=', next.sessionId)
        .where('retired_at', 'is', null)
        .execute();
      // Only the token just exchanged keeps a sealed successor (see the port).
      await trx
        .updateTable('refresh_tokens')
        .set({ successor: null })
        .where('session_id', '=', next.sessionId)
        .where('id', '!=', retireId)
        .where('successor', 'is not', null)
        .execute();
      await trx.insertInto('refresh_tokens').values(toRefreshTokenRow(next)).execute();
      return true;
    });
  }

  async retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx
        .updateTable('refresh_tokens')
        .set({ retired_at: retiredAt })
        .where('session_id', '=', sessionId)
        .where('id', '!=', keepId)
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .updateTable('refresh_tokens')
        .set({ successor: null })
        .where('session_id', '=', sessionId)
        .where('successor', 'is not', null)
        .execute();
    });
  }
}

const toRefreshTokenRow = (token: RefreshTokenRecord): RefreshTokenRow => ({
  id: token.id,
  session_id: token.sessionId,
  secret_hash: token.secretHash,
  created_at: token.createdAt,
  retired_at: token.retiredAt,
  successor: token.successor,
});

export const fromRefreshTokenRow = (row: RefreshTokenRow): RefreshTokenRecord => ({
  id: row.id,
  sessionId: row.session_id,
  secretHash: row.secret_hash,
  createdAt: Number(row.created_at),
  retiredAt: row.retired_at === null ? null : Number(row.retired_at),
  successor: row.successor,
});
