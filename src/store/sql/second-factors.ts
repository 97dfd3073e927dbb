import type { Kysely, Selectable } from 'kysely';
import type {
  MfaAttemptRecord,
  RecoveryCodeRecord,
  SecondFactorStore,
  TotpFactorRecord,
} from '../ports/second-factors.js';
import type { Database } from './schema.js';
import { type MfaDatabase, withMfaTables } from './schema-mfa.js';
import { inTransaction } from './transaction.js';

type TotpRow = Selectable<MfaDatabase['mfa_totp']>;

/** Every "at most once" is a conditional UPDATE (compare-and-set), portable to SQLite and PostgreSQL. */
export class SqlSecondFactors implements SecondFactorStore {
  readonly #db: Kysely<MfaDatabase>;

  constructor(private readonly database: Kysely<Database>) {
    this.#db = withMfaTables(database);
  }

  async findTotp(userId: string): Promise<TotpFactorRecord | undefined> {
    const row = await this.#db
      .selectFrom('mfa_totp')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && fromTotpRow(row);
  }

  async savePendingTotp(record: TotpFactorRecord): Promise<boolean> {
    return inTransaction(this.database, async (trx) => {
      const db = withMfaTables(trx);
      await db
        .deleteFrom('mfa_totp')
        .where('user_id', '=', record.userId)
        .where('confirmed_at', 'is', null)
        .execute();
      const result = await db
        .insertInto('mfa_totp')
        .values({
          user_id: record.userId,
          secret_sealed: record.secretSealed,
          created_at: record.createdAt,
          confirmed_at: record.confirmedAt,
          last_used_step: record.lastUsedStep,
        })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  async confirmTotp(userId: string, confirmedAt: number, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('mfa_totp')
      .set({ confirmed_at: confirmedAt, last_used_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('mfa_totp')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteTotp(userId: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    createdAt: number,
  ): Promise<void> {
    await inTransaction(this.database, async (trx) => {
      const db = withMfaTables(trx);
      await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      if (codeHashes.length === 0) return;
      await db
        .insertInto('mfa_recovery_codes')
        .values(
          codeHashes.map((code_hash) => ({
            user_id: userId,
            code_hash,
            created_at: createdAt,
            used_at: null,
          })),
        )
        .execute();
    });
  }

  async useRecoveryCode(userId: string, codeHash: string, usedAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: usedAt })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async listRecoveryCodes(userId: string): Promise<RecoveryCodeRecord[]> {
    const rows = await this.#db
      .selectFrom('mfa_recovery_codes')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('code_hash')
      .execute();
    return rows.map((row) => ({
      userId: row.user_id,
      codeHash: row.code_hash,
      createdAt: Number(row.created_at),
      usedAt: row.used_at === null ? null : Number(row.used_at),
    }));
  }

  async deleteRecoveryCodes(userId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('mfa_recovery_codes')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async findMfaAttempts(userId: string): Promise<MfaAttemptRecord | undefined> {
    const row = await this.#db
      .selectFrom('mfa_attempts')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return (
      row && { userId: row.user_id, failures: Number(row.failures), blockedUntil: Number(row.blocked_until) }
    );
  }

  async swapMfaAttempts(
    userId: string,
    expectedFailures: number,
    next: Omit<MfaAttemptRecord, 'userId'>,
  ): Promise<boolean> {
    const values = { failures: next.failures, blocked_until: next.blockedUntil };
    if (expectedFailures === 0) {
      // No row yet counts as zero: the first attempt inserts it (one of racing inserts wins).
      const inserted = await this.#db
        .insertInto('mfa_attempts')
        .values({ user_id: userId, ...values })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return true;
    }
    const result = await this.#db
      .updateTable('mfa_attempts')
      .set(values)
      .where('user_id', '=', userId)
      .where('failures', '=', expectedFailures)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

const fromTotpRow = (row: TotpRow): TotpFactorRecord => ({
  userId: row.user_id,
  secretSealed: row.secret_sealed,
  createdAt: Number(row.created_at),
  confirmedAt: row.confirmed_at === null ? null : Number(row.confirmed_at),
  lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
});
