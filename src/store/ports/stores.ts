import type { ApiKeyStore } from './api-keys.js';
import type { AuditStore } from './audit.js';
import type { AuthorizationCodeStore } from './authorization-codes.js';
import type { ConsentTicketStore } from './consent-tickets.js';
import type { DeliveryOutboxStore } from './deliveries.js';
import type { LoginEndingStore } from './login-endings.js';
import type { OAuthClientStore } from './oauth-clients.js';
import type { OAuthGrantStore } from './oauth-grants.js';
import type { RefreshTokenStore } from './refresh-tokens.js';
import type { RelyingPartyLoginStore } from './relying-party-logins.js';
import type { RevocationStore } from './revocations.js';
import type { SecurityEventStore } from './security-events.js';
import type { SessionStore } from './sessions.js';
import type { SigningKeyStore } from './signing-keys.js';
import type { UserStore } from './users.js';
import type { WebhookEndpointStore } from './webhooks.js';

/** One store per aggregate (kind of record), all over the same database. */
export interface AggregateStores {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly signingKeys: SigningKeyStore;
  readonly audit: AuditStore;
  readonly revocations: RevocationStore;
  readonly oauthClients: OAuthClientStore;
  readonly oauthGrants: OAuthGrantStore;
  readonly authorizationCodes: AuthorizationCodeStore;
  readonly apiKeys: ApiKeyStore;
  readonly consentTickets: ConsentTicketStore;
  /** OpenID Connect: which relying parties each browser login signed into. */
  readonly relyingPartyLogins: RelyingPartyLoginStore;
  /** Ending logins across users, sessions, API keys and revocations in one transaction. */
  readonly loginEndings: LoginEndingStore;
  /** Security events and their durable fan-out (endLogins writes the login endings' own). */
  readonly securityEvents: SecurityEventStore;
  /** The HTTP delivery outbox (webhooks, SETs, other registered formats). */
  readonly deliveries: DeliveryOutboxStore;
  readonly webhooks: WebhookEndpointStore;
}

/**
 * What createTessera builds and hands out piece by piece: each service gets only the stores it
 * uses. Opened once per process by an engine (memory, SQLite, PostgreSQL; with Redis, the
 * sessions store is wrapped by the cache).
 */
export interface Stores extends AggregateStores {
  /** 'memory', 'sqlite', 'postgres'; with the Redis session cache, e.g. 'sqlite+redis'. */
  readonly engine: string;
  /** Resolves when the database answers; used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
