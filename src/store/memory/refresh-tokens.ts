import type { RefreshTokenRecord, RefreshTokenStore } from '../ports/index.js';
import type { MemoryTables } from './tables.js';

/** Every method checks and sets with no await between: atomic with respect to every other call. */
export class MemoryRefreshTokenStore implements RefreshTokenStore {
  constructor(private readonly tables: MemoryTables) {}

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    if (!this.tables.sessions.has(token.sessionId)) throw new Error(`no session ${token.sessionId}`);
    if (this.tables.refreshTokens.has(token.id)) throw new Error(`duplicate refresh token id ${token.id}`);
    this.tables.refreshTokens.set(token.id, { ...token });
    const family = this.tables.refreshTokenIdsBySession.get(token.sessionId);
    if (family) family.add(token.id);
    else this.tables.refreshTokenIdsBySession.set(token.sessionId, new Set([token.id]));
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const token = this.tables.refreshTokens.get(id);
    return token && { ...token };
  }

  async rotateRefreshToken(retireId: string, next: RefreshTokenRecord, successor: string): Promise<boolean> {
    const { refreshTokens, sessions, refreshTokenIdsBySession } = this.tables;
    const token = refreshTokens.get(retireId);
    if (!token || token.retiredAt !== null || !sessions.has(next.sessionId)) return false;
    if (refreshTokens.has(next.id)) throw new Error(`duplicate refresh token id ${next.id}`);
    token.retiredAt = next.createdAt;
    token.successor = successor;
    for (const tokenId of refreshTokenIdsBySession.get(next.sessionId) ?? []) {
      const other = refreshTokens.get(tokenId);
      if (!other || other.id === retireId) continue;
      if (other.retiredAt === null) other.retiredAt = next.createdAt;
      other.successor = null;
    }
    refreshTokens.set(next.id, { ...next });
    refreshTokenIdsBySession.get(next.sessionId)?.add(next.id);
    return true;
  }

  async retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void> {
    for (const tokenId of this.tables.refreshTokenIdsBySession.get(sessionId) ?? []) {
      const token = this.tables.refreshTokens.get(tokenId);
      if (!token) continue;
      if (token.id !== keepId && token.retiredAt === null) token.retiredAt = retiredAt;
      token.successor = null;
    }
  }
}
