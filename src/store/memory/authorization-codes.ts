import type {
  AuthorizationCodeRecord,
  AuthorizationCodeStore,
  RefreshTokenRecord,
  RelyingPartyLoginRecord,
  SessionRecord,
} from '../ports/index.js';
import { copySession, deleteWhere, type MemoryTables } from './tables.js';

export class MemoryAuthorizationCodeStore implements AuthorizationCodeStore {
  constructor(private readonly tables: MemoryTables) {}

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    const { authorizationCodes, oauthClients } = this.tables;
    if (authorizationCodes.has(code.id)) throw new Error(`duplicate authorization code id ${code.id}`);
    if (!oauthClients.has(code.clientId)) throw new Error(`no oauth client ${code.clientId}`);
    authorizationCodes.set(code.id, copyCode(code));
  }

  async findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined> {
    const code = this.tables.authorizationCodes.get(id);
    return code && copyCode(code);
  }

  async useAuthorizationCode(id: string, usedAt: number): Promise<boolean> {
    // Check and set with no await between: of racing exchanges exactly one wins.
    const code = this.tables.authorizationCodes.get(id);
    if (!code || code.usedAt !== null) return false;
    code.usedAt = usedAt;
    return true;
  }

  async redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
    relyingPartyLogin?: RelyingPartyLoginRecord,
  ): Promise<boolean> {
    // No await between check and writes: atomic, as the SQL transaction.
    const { authorizationCodes, sessions, refreshTokens, refreshTokenIdsBySession } = this.tables;
    const code = authorizationCodes.get(id);
    if (!code || code.usedAt !== null) return false;
    if (refreshTokens.has(refreshToken.id)) throw new Error(`duplicate refresh token id ${refreshToken.id}`);
    if (relyingPartyLogin) this.tables.addRelyingPartyLogin(relyingPartyLogin);
    code.usedAt = usedAt;
    sessions.set(login.id, copySession(login));
    refreshTokens.set(refreshToken.id, { ...refreshToken });
    refreshTokenIdsBySession.set(login.id, new Set([refreshToken.id]));
    return true;
  }

  async deleteExpiredAuthorizationCodes(before: number): Promise<number> {
    return deleteWhere(this.tables.authorizationCodes, (code) => code.expiresAt < before);
  }
}

const copyCode = (code: AuthorizationCodeRecord): AuthorizationCodeRecord => ({
  ...code,
  scopes: [...code.scopes],
  amr: [...code.amr],
  ...(code.oidc && { oidc: { ...code.oidc } }),
});
