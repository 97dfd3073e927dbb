import type {
  ApiKeyRecord,
  AuditEvent,
  AuthorizationCodeRecord,
  ConsentTicketRecord,
  OAuthClientRecord,
  OAuthGrantRecord,
  RefreshTokenRecord,
  RevocationRecord,
  SessionRecord,
  StoredSigningKey,
  UserRecord,
} from '../ports/index.js';

/**
 * The memory engine's "database": one map per table, shared by the per-aggregate stores as the
 * SQL stores share one database. The SQL engines' constraints that cross tables (foreign keys
 * and their cascades) are mirrored here, in one place.
 */
export class MemoryTables {
  readonly users = new Map<string, UserRecord>();
  readonly userIdByEmailKey = new Map<string, string>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** session id → ids of its refresh tokens, for the family operations and the cascade. */
  readonly refreshTokenIdsBySession = new Map<string, Set<string>>();
  readonly signingKeys = new Map<string, StoredSigningKey>();
  readonly auditEvents = new Map<string, AuditEvent>();
  readonly revocations: RevocationRecord[] = [];
  revocationSeq = 0;
  readonly oauthClients = new Map<string, OAuthClientRecord>();
  /** `<userId> <clientId>` → grant. */
  readonly oauthGrants = new Map<string, OAuthGrantRecord>();
  readonly authorizationCodes = new Map<string, AuthorizationCodeRecord>();
  readonly consentTickets = new Map<string, ConsentTicketRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();

  /** Deletes matching sessions and, like the SQL foreign key's cascade, their refresh tokens. */
  deleteSessionsWhere(predicate: (session: SessionRecord) => boolean): number {
    let deleted = 0;
    for (const [id, session] of this.sessions) {
      if (predicate(session)) {
        this.sessions.delete(id);
        for (const tokenId of this.refreshTokenIdsBySession.get(id) ?? []) this.refreshTokens.delete(tokenId);
        this.refreshTokenIdsBySession.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  /** Like the SQL foreign keys' cascade: a deleted client's grants and codes go with it. */
  deleteClientCascade(clientId: string): boolean {
    if (!this.oauthClients.delete(clientId)) return false;
    for (const [key, grant] of this.oauthGrants)
      if (grant.clientId === clientId) this.oauthGrants.delete(key);
    for (const [key, code] of this.authorizationCodes) {
      if (code.clientId === clientId) this.authorizationCodes.delete(key);
    }
    return true;
  }
}

export const copyUser = (user: UserRecord): UserRecord => ({ ...user, roles: [...user.roles] });

export const copySession = (session: SessionRecord): SessionRecord =>
  session.oauth
    ? { ...session, amr: [...session.amr], oauth: { ...session.oauth, scopes: [...session.oauth.scopes] } }
    : { ...session, amr: [...session.amr] };

/** Code-unit order, as SQLite's default BINARY collation sorts text. */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Deletes the entries matching `predicate`; returns how many. */
export function deleteWhere<K, V>(map: Map<K, V>, predicate: (value: V) => boolean): number {
  let deleted = 0;
  for (const [key, value] of map) {
    if (predicate(value)) {
      map.delete(key);
      deleted++;
    }
  }
  return deleted;
}
