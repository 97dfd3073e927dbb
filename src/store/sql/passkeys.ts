import type { Kysely, Selectable } from 'kysely';
import type { PasskeyDeviceType, PasskeyRecord, PasskeyStore, PasskeyUse } from '../ports/passkeys.js';
import type { Database } from './schema.js';
import { type PasskeyDatabase, withPasskeyTables } from './schema-passkeys.js';

type PasskeyRow = Selectable<PasskeyDatabase['passkeys']>;

export class SqlPasskeys implements PasskeyStore {
  readonly #db: Kysely<PasskeyDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withPasskeyTables(db);
  }

  async createPasskey(passkey: PasskeyRecord): Promise<boolean> {
    // Insert-or-nothing on the unique credential id: atomic on both engines.
    const result = await this.#db
      .insertInto('passkeys')
      .values({
        id: passkey.id,
        user_id: passkey.userId,
        credential_id: passkey.credentialId,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: JSON.stringify(passkey.transports),
        device_type: passkey.deviceType,
        backup_eligible: passkey.backupEligible ? 1 : 0,
        backed_up: passkey.backedUp ? 1 : 0,
        aaguid: passkey.aaguid,
        name: passkey.name,
        created_at: passkey.createdAt,
        last_used_at: passkey.lastUsedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  async renamePasskey(userId: string, id: string, name: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('passkeys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async deleteUserPasskeys(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recordPasskeyUse(id: string, expectedCounter: number, use: PasskeyUse): Promise<boolean> {
    const result = await this.#db
      .updateTable('passkeys')
      .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.usedAt })
      .where('id', '=', id)
      .where('counter', '=', expectedCounter)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

function fromRow(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type as PasskeyDeviceType,
    backupEligible: Number(row.backup_eligible) === 1,
    backedUp: Number(row.backed_up) === 1,
    aaguid: row.aaguid,
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}
