import type { RelyingPartyLoginRecord, RelyingPartyLoginStore } from '../ports/index.js';
import { compareIds, deleteWhere, type MemoryTables } from './tables.js';

export class MemoryRelyingPartyLoginStore implements RelyingPartyLoginStore {
  constructor(private readonly tables: MemoryTables) {}

  async recordRelyingPartyLogin(login: RelyingPartyLoginRecord): Promise<void> {
    this.tables.addRelyingPartyLogin(login);
  }

  async findRelyingPartyLogin(delegationId: string): Promise<RelyingPartyLoginRecord | undefined> {
    const login = this.tables.relyingPartyLogins.get(delegationId);
    return login && { ...login };
  }

  async listRelyingPartyLogins(sessionIds: readonly string[]): Promise<RelyingPartyLoginRecord[]> {
    const wanted = new Set(sessionIds);
    return [...this.tables.relyingPartyLogins.values()]
      .filter((login) => wanted.has(login.sessionId))
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.delegationId, b.delegationId))
      .map((login) => ({ ...login }));
  }

  async deleteRelyingPartyLogins(sessionIds: readonly string[]): Promise<number> {
    const wanted = new Set(sessionIds);
    return deleteWhere(this.tables.relyingPartyLogins, (login) => wanted.has(login.sessionId));
  }

  async deleteRelyingPartyLoginsBefore(before: number): Promise<number> {
    return deleteWhere(this.tables.relyingPartyLogins, (login) => login.createdAt < before);
  }
}
