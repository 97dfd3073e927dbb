import { type Kysely, sql } from 'kysely';
import type { AggregateStores, Stores } from '../ports/index.js';
import { SqlApiKeyStore } from './api-keys.js';
import { SqlAuditStore } from './audit.js';
import { SqlAuthorizationCodeStore } from './authorization-codes.js';
import { SqlConsentTicketStore } from './consent-tickets.js';
import { SqlDeliveryOutbox } from './deliveries.js';
import { SqlLoginEndingStore } from './login-endings.js';
import { SqlOAuthClientStore } from './oauth-clients.js';
import { SqlOAuthGrantStore } from './oauth-grants.js';
import { SqlRefreshTokenStore } from './refresh-tokens.js';
import { SqlRelyingPartyLoginStore } from './relying-party-logins.js';
import { SqlRevocationStore } from './revocations.js';
import type { Database } from './schema.js';
import { SqlSecurityEventStore } from './security-events.js';
import { SqlSessionStore } from './sessions.js';
import { SqlSigningKeyStore } from './signing-keys.js';
import { SqlUserStore } from './users.js';
import { SqlWebhookEndpointStore } from './webhooks.js';

/** What differs between SQL engines; everything else is the shared kysely code. */
export interface SqlEngine {
  readonly name: 'sqlite' | 'postgres';
  /** Whether an insert failed on a unique constraint (createUser: the email). */
  isUniqueViolation(error: unknown): boolean;
  /** The engine's own health check (SQLite: the file, a write); default `select 1`. */
  readonly ping?: () => Promise<void>;
  /** The engine's prepared-statement versions of the per-request stores, where it has them. */
  readonly prepared?: Partial<Pick<AggregateStores, 'users' | 'sessions' | 'refreshTokens'>>;
}

/** Every aggregate's store over one kysely handle: the database, or one transaction of it. */
export function sqlAggregateStores(db: Kysely<Database>, engine: SqlEngine): AggregateStores {
  return {
    users: new SqlUserStore(db, engine.isUniqueViolation),
    sessions: new SqlSessionStore(db),
    refreshTokens: new SqlRefreshTokenStore(db),
    signingKeys: new SqlSigningKeyStore(db),
    audit: new SqlAuditStore(db),
    revocations: new SqlRevocationStore(db),
    oauthClients: new SqlOAuthClientStore(db),
    oauthGrants: new SqlOAuthGrantStore(db),
    authorizationCodes: new SqlAuthorizationCodeStore(db),
    apiKeys: new SqlApiKeyStore(db),
    consentTickets: new SqlConsentTicketStore(db),
    relyingPartyLogins: new SqlRelyingPartyLoginStore(db),
    loginEndings: new SqlLoginEndingStore(db, engine.name),
    securityEvents: new SqlSecurityEventStore(db),
    deliveries: new SqlDeliveryOutbox(db),
    webhooks: new SqlWebhookEndpointStore(db),
  };
}

/**
 * The SQL engines' stores: one small class per aggregate, all over one kysely database.
 * Engine-specific concerns (opening the connection, pragmas, error codes, prepared statements
 * for the per-request queries) stay in sqlite.ts and postgres.ts.
 */
export class SqlStores implements Stores {
  readonly engine: string;
  readonly users;
  readonly sessions;
  readonly refreshTokens;
  readonly signingKeys;
  readonly audit;
  readonly revocations;
  readonly oauthClients;
  readonly oauthGrants;
  readonly authorizationCodes;
  readonly apiKeys;
  readonly consentTickets;
  readonly relyingPartyLogins;
  readonly loginEndings;
  readonly securityEvents;
  readonly deliveries;
  readonly webhooks;

  constructor(
    private readonly sqlEngine: SqlEngine,
    readonly db: Kysely<Database>,
    /** The migrations opening these stores applied (`tessera migrate` prints them). */
    readonly appliedMigrations: readonly string[] = [],
  ) {
    this.engine = sqlEngine.name;
    const stores = { ...sqlAggregateStores(db, sqlEngine), ...sqlEngine.prepared };
    this.users = stores.users;
    this.sessions = stores.sessions;
    this.refreshTokens = stores.refreshTokens;
    this.signingKeys = stores.signingKeys;
    this.audit = stores.audit;
    this.revocations = stores.revocations;
    this.oauthClients = stores.oauthClients;
    this.oauthGrants = stores.oauthGrants;
    this.authorizationCodes = stores.authorizationCodes;
    this.apiKeys = stores.apiKeys;
    this.consentTickets = stores.consentTickets;
    this.relyingPartyLogins = stores.relyingPartyLogins;
    this.loginEndings = stores.loginEndings;
    this.securityEvents = stores.securityEvents;
    this.deliveries = stores.deliveries;
    this.webhooks = stores.webhooks;
  }

  /**
   * The way to change several aggregates all or nothing: `work` gets every store bound to one
   * database transaction, committed when it resolves and rolled back when it throws. A store
   * method that runs its own transaction (rotateRefreshToken, endLogins, redeemAuthorizationCode)
   * joins this one. Keep `work` to database calls: it holds a connection (on SQLite, the only
   * one) until it settles.
   */
  transaction<T>(work: (stores: AggregateStores) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(sqlAggregateStores(trx, this.sqlEngine)));
  }

  async ping(): Promise<void> {
    if (this.sqlEngine.ping) await this.sqlEngine.ping();
    else await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
