import type {
  ApiKeyRecord,
  AuditEvent,
  AuthorizationCodeRecord,
  ConsentTicketRecord,
  DeliveryRecord,
  OAuthClientRecord,
  OAuthGrantRecord,
  RefreshTokenRecord,
  RelyingPartyLoginRecord,
  RevocationRecord,
  SecurityEventRecord,
  SessionRecord,
  StoredSigningKey,
  UserRecord,
  WebhookEndpointRecord,
} from '../ports/index.js';

/** A security event with its fan-out state, as the SQL row has it. */
export interface StoredSecurityEvent extends SecurityEventRecord {
  fannedOutAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

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
  readonly securityEvents = new Map<string, StoredSecurityEvent>();
  readonly deliveries = new Map<string, DeliveryRecord>();
  readonly webhooks = new Map<string, WebhookEndpointRecord>();
  /** delegation id → relying-party login (OpenID Connect). */
  readonly relyingPartyLogins = new Map<string, RelyingPartyLoginRecord>();

  /** As the SQL primary key and foreign key: unique delegation, an existing client. */
  addRelyingPartyLogin(login: RelyingPartyLoginRecord): void {
    if (this.relyingPartyLogins.has(login.delegationId)) {
      throw new Error(`duplicate relying-party login ${login.delegationId}`);
    }
    if (!this.oauthClients.has(login.clientId)) throw new Error(`no oauth client ${login.clientId}`);
    this.relyingPartyLogins.set(login.delegationId, { ...login });
  }

  /** Deletes matching sessions and, like the SQL foreign key's cascade, their refresh tokens. */
  deleteSessionsWhere(predicate: (session: SessionRecord) => boolean): number {
    return this.deleteSessionsReturning(predicate).length;
  }

  /** deleteSessionsWhere, returning the deleted sessions (at most `limit`). */
  deleteSessionsReturning(predicate: (session: SessionRecord) => boolean, limit = Infinity): SessionRecord[] {
    const deleted: SessionRecord[] = [];
    for (const [id, session] of this.sessions) {
      if (deleted.length >= limit) break;
      if (predicate(session)) {
        this.sessions.delete(id);
        for (const tokenId of this.refreshTokenIdsBySession.get(id) ?? []) this.refreshTokens.delete(tokenId);
        this.refreshTokenIdsBySession.delete(id);
        deleted.push(session);
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
    for (const [key, login] of this.relyingPartyLogins) {
      if (login.clientId === clientId) this.relyingPartyLogins.delete(key);
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
