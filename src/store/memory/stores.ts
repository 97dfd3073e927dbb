import type { Stores } from '../ports/index.js';
import { MemoryApiKeyStore } from './api-keys.js';
import { MemoryAuditStore } from './audit.js';
import { MemoryAuthorizationCodeStore } from './authorization-codes.js';
import { MemoryConsentTicketStore } from './consent-tickets.js';
import { MemoryDeliveryOutbox } from './deliveries.js';
import { MemoryLoginEndingStore } from './login-endings.js';
import { MemoryOAuthClientStore } from './oauth-clients.js';
import { MemoryOAuthGrantStore } from './oauth-grants.js';
import { MemoryRefreshTokenStore } from './refresh-tokens.js';
import { MemoryRelyingPartyLoginStore } from './relying-party-logins.js';
import { MemoryRevocationStore } from './revocations.js';
import { MemorySecurityEventStore } from './security-events.js';
import { MemorySessionStore } from './sessions.js';
import { MemorySigningKeyStore } from './signing-keys.js';
import { MemoryTables } from './tables.js';
import { MemoryUserStore } from './users.js';
import { MemoryWebhookEndpointStore } from './webhooks.js';

/**
 * In-process engine: for tests and for trying Tessera without a disk. Records are copied in
 * and out so callers cannot mutate stored state by accident, as with a real database, and the
 * SQL engines' constraints are mirrored (MemoryTables): duplicate ids and refresh tokens of a
 * missing session are refused, and deleting a session deletes its refresh tokens.
 */
export class MemoryStores implements Stores {
  readonly engine = 'memory';
  readonly #tables = new MemoryTables();
  readonly users = new MemoryUserStore(this.#tables);
  readonly sessions = new MemorySessionStore(this.#tables);
  readonly refreshTokens = new MemoryRefreshTokenStore(this.#tables);
  readonly signingKeys = new MemorySigningKeyStore(this.#tables);
  readonly audit = new MemoryAuditStore(this.#tables);
  readonly revocations = new MemoryRevocationStore(this.#tables);
  readonly oauthClients = new MemoryOAuthClientStore(this.#tables);
  readonly oauthGrants = new MemoryOAuthGrantStore(this.#tables);
  readonly authorizationCodes = new MemoryAuthorizationCodeStore(this.#tables);
  readonly apiKeys = new MemoryApiKeyStore(this.#tables);
  readonly consentTickets = new MemoryConsentTicketStore(this.#tables);
  readonly relyingPartyLogins = new MemoryRelyingPartyLoginStore(this.#tables);
  readonly loginEndings = new MemoryLoginEndingStore(this.#tables);
  readonly securityEvents = new MemorySecurityEventStore(this.#tables);
  readonly deliveries = new MemoryDeliveryOutbox(this.#tables);
  readonly webhooks = new MemoryWebhookEndpointStore(this.#tables);

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
