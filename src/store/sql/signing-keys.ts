import type { Kysely, Selectable } from 'kysely';
import type { SigningKeyStore, StoredSigningKey } from '../ports/index.js';
import type { Database } from './schema.js';

type SigningKeyRow = Selectable<Database['signing_keys']>;

export class SqlSigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    return rows.map(fromSigningKeyRow);
  }

  async createSigningKey(key: StoredSigningKey): Promise<void> {
    await this.db.insertInto('signing_keys').values(toSigningKeyRow(key)).execute();
  }

  async updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ status, retired_at: retiredAt })
      .where('kid', '=', kid)
      .execute();
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('signing_keys').where('kid', '=', kid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

const toSigningKeyRow = (key: StoredSigningKey): SigningKeyRow => ({
  kid: key.kid,
  alg: key.alg,
  status: key.status,
  created_at: key.createdAt,
  retired_at: key.retiredAt,
  public_jwk: key.publicJwk,
  private_key_encrypted: key.privateKeyEncrypted,
});

const fromSigningKeyRow = (row: SigningKeyRow): StoredSigningKey => ({
  kid: row.kid,
  alg: row.alg as StoredSigningKey['alg'],
  status: row.status as StoredSigningKey['status'],
  createdAt: Number(row.created_at),
  retiredAt: row.retired_at === null ? null : Number(row.retired_at),
  publicJwk: row.public_jwk,
  privateKeyEncrypted: row.private_key_encrypted,
});
