import type { Kysely } from 'kysely';
import type { KnownDeviceStore } from '../ports/known-devices.js';
import type { Database } from './schema.js';
import { type EmailDatabase, withEmailTables } from './schema-email.js';

export class SqlKnownDevices implements KnownDeviceStore {
  readonly #db: Kysely<EmailDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEmailTables(db);
  }

  async rememberDevice(userId: string, fingerprint: string, at: number): Promise<boolean> {
    // Insert-or-nothing is atomic on both engines: two racing first logins alert once.
    const result = await this.#db
      .insertInto('known_devices')
      .values({ user_id: userId, fingerprint, first_seen_at: at, last_seen_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'fingerprint']).doNothing())
      .executeTakeFirst();
    const isNew = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    if (!isNew) {
      await this.#db
        .updateTable('known_devices')
        .set({ last_seen_at: at })
        .where('user_id', '=', userId)
        .where('fingerprint', '=', fingerprint)
        .execute();
    }
    return isNew;
  }

  async hasKnownDevices(userId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('known_devices')
      .select('fingerprint')
      .where('user_id', '=', userId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
