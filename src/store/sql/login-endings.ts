import { type Kysely, sql } from 'kysely';
import {
  type EndedLogin,
  endingEvent,
  hasActiveAdmin,
  LastAdminError,
  type LoginEnding,
  type LoginEndingStore,
  type LoginsEnded,
} from '../ports/index.js';
import type { Database } from './schema.js';
import { withEventTables } from './schema-events.js';
import { insertSecurityEvent } from './security-events.js';
import { inTransaction } from './transaction.js';
import { fromUserRow } from './users.js';

/** pg_advisory_xact_lock key of changes that must leave an admin (any constant unique to Tessera). */
const ADMIN_CHANGE_LOCK = 0x7e55e4a;

/**
 * Ending logins in one database transaction across the users, sessions, api_keys and
 * revocations tables (the sessions' refresh tokens go by the foreign key's cascade).
 */
export class SqlLoginEndingStore implements LoginEndingStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: 'sqlite' | 'postgres',
  ) {}

  endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    const { target, account } = ending;
    return inTransaction(this.db, async (trx) => {
      if (ending.keepAnAdmin && this.engine === 'postgres') {
        // Two admins demoting each other at once would each still see the other: serialise.
        await sql`select pg_advisory_xact_lock(${ADMIN_CHANGE_LOCK})`.execute(trx);
      }
      if ('userId' in target && account) {
        await trx
          .updateTable('users')
          .set({
            ...(account.lock && { locked_at: account.lock.lockedAt, lock_reason: account.lock.reason }),
            ...(account.roles && { roles: JSON.stringify(account.roles) }),
            ...(account.passwordHash !== undefined && { password_hash: account.passwordHash }),
            updated_at: account.updatedAt,
          })
          .where('id', '=', target.userId)
          .execute();
      }
      if (ending.keepAnAdmin) {
        const admins = await trx
          .selectFrom('users')
          .selectAll()
          .where('locked_at', 'is', null)
          .where('roles', 'like', '%"admin"%')
          .execute();
        if (!hasActiveAdmin(admins.map(fromUserRow))) throw new LastAdminError();
      }
      let logins: EndedLogin[] = [];
      if (ending.endSessions) {
        let query = trx.deleteFrom('sessions');
        if ('sessionId' in target) query = query.where('id', '=', target.sessionId);
        else if ('userId' in target) {
          query = query.where('user_id', '=', target.userId);
          if (target.keepSessionId !== undefined) query = query.where('id', '!=', target.keepSessionId);
        } else if ('expired' in target) {
          const { now, idleBefore, limit } = target.expired;
          // A bounded batch (the sweep loops), so one event never names an unbounded list.
          query = query.where('id', 'in', (eb) =>
            eb
              .selectFrom('sessions')
              .select('id')
              .where((w) => w.or([w('expires_at', '<=', now), w('last_seen_at', '<=', idleBefore)]))
              .limit(limit),
          );
        }
        const rows = await query.returning(['id', 'user_id', 'client_id']).execute();
        logins = rows.map((row) => ({
          id: row.id,
          userId: row.user_id,
          ...(row.client_id !== null && { clientId: row.client_id }),
        }));
      }
      const sessions = logins.length;
      // The security event joins the ending's transaction: it is recorded iff the logins ended.
      const event = endingEvent(ending, logins);
      if (event) await insertSecurityEvent(withEventTables(trx), event);
      let apiKeys = 0;
      if (ending.revokeApiKeysAt !== undefined && !('sessionId' in target) && !('expired' in target)) {
        let query = trx
          .updateTable('api_keys')
          .set({ revoked_at: ending.revokeApiKeysAt })
          .where('revoked_at', 'is', null);
        if ('userId' in target) query = query.where('user_id', '=', target.userId);
        apiKeys = Number((await query.executeTakeFirst()).numUpdatedRows);
      }
      const append = !('sessionId' in target) || sessions > 0;
      if (!append || !ending.revocation) return { sessions, logins, apiKeys };
      const { kind, subject, at, expiresAt } = ending.revocation;
      const row = await trx
        .insertInto('revocations')
        .values({ kind, subject, at, expires_at: expiresAt })
        .returning('seq')
        .executeTakeFirstOrThrow();
      return { sessions, logins, apiKeys, revocation: { ...ending.revocation, seq: Number(row.seq) } };
    });
  }
}
