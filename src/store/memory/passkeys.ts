import type { PasskeyRecord, PasskeyStore, PasskeyUse } from '../ports/passkeys.js';

export class MemoryPasskeys implements PasskeyStore {
  readonly #byId = new Map<string, PasskeyRecord>();

  async createPasskey(passkey: PasskeyRecord): Promise<boolean> {
    if ((await this.findPasskeyByCredentialId(passkey.credentialId)) || this.#byId.has(passkey.id)) {
      return false;
    }
    this.#byId.set(passkey.id, { ...passkey, transports: [...passkey.transports] });
    return true;
  }

  async findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    for (const passkey of this.#byId.values()) {
      if (passkey.credentialId === credentialId) return copy(passkey);
    }
    return undefined;
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    return [...this.#byId.values()]
      .filter((p) => p.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map(copy);
  }

  async renamePasskey(userId: string, id: string, name: string): Promise<boolean> {
    const passkey = this.#byId.get(id);
    if (passkey?.userId !== userId) return false;
    passkey.name = name;
    return true;
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    if (this.#byId.get(id)?.userId !== userId) return false;
    return this.#byId.delete(id);
  }

  async deleteUserPasskeys(userId: string): Promise<number> {
    let deleted = 0;
    for (const [id, passkey] of this.#byId) {
      if (passkey.userId === userId && this.#byId.delete(id)) deleted++;
    }
    return deleted;
  }

  async recordPasskeyUse(id: string, expectedCounter: number, use: PasskeyUse): Promise<boolean> {
    const passkey = this.#byId.get(id);
    if (!passkey || passkey.counter !== expectedCounter) return false;
    passkey.counter = use.counter;
    passkey.backedUp = use.backedUp;
    passkey.lastUsedAt = use.usedAt;
    return true;
  }
}

const copy = (passkey: PasskeyRecord): PasskeyRecord => ({ ...passkey, transports: [...passkey.transports] });
