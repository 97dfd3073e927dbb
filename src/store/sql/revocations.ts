import type { Kysely } from 'kysely';
import type { RevocationRecord, RevocationStore } from '../ports/index.js';
import type { Database } from './schema.js';

export class SqlRevocationStore implements RevocationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord> {
    const row = await this.db
      .insertInto('revocations')
      .values({
        kind: revocation.kind,
        subject: revocation.subject,
        at: revocation.at,
        expires_at: revocation.expiresAt,
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return { ...revocation, seq: Number(row.seq) };
  }

  async listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('seq', '>', afterSeq)
      .where('expires_at', '>', now)
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      seq: Number(row.seq),
      kind: row.kind as RevocationRecord['kind'],
      subject: row.subject,
      at: Number(row.at),
      expiresAt: Number(row.expires_at),
    }));
  }

  async deleteExpiredRevocations(now: number): Promise<number> {
    const result = await this.db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
