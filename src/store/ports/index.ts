/**
 * Storage ports: the only way core touches persistent state, one port per aggregate. Every
 * engine (memory, SQLite, PostgreSQL; the Redis cache for sessions) implements them and passes
 * the same contract tests (test/contract/). Times are integer milliseconds since the epoch;
 * secrets appear only as SHA-256 hashes.
 */
export type { ApiKeyRecord, ApiKeyStore } from './api-keys.js';
export type { AuditEvent, AuditFilter, AuditStore } from './audit.js';
export type {
  AuthorizationCodeRecord,
  AuthorizationCodeStore,
  OidcCodeContext,
} from './authorization-codes.js';
export type { ConsentTicketRecord, ConsentTicketStore } from './consent-tickets.js';
export type { DeliveryOutboxStore, DeliveryRecord, DeliveryStatus } from './deliveries.js';
export {
  endingEvent,
  hasActiveAdmin,
  LastAdminError,
  type LoginEnding,
  type LoginEndingStore,
  type LoginsEnded,
} from './login-endings.js';
export type { OAuthClientRecord, OAuthClientStore, OidcClientSettings } from './oauth-clients.js';
export type { OAuthGrantRecord, OAuthGrantStore } from './oauth-grants.js';
export type { RefreshTokenRecord, RefreshTokenStore } from './refresh-tokens.js';
export type { RelyingPartyLoginRecord, RelyingPartyLoginStore } from './relying-party-logins.js';
export type { RevocationRecord, RevocationStore } from './revocations.js';
export type {
  ClaimedSecurityEvent,
  EndedLogin,
  SecurityEventRecord,
  SecurityEventStore,
} from './security-events.js';
export type {
  MaybePromise,
  OAuthDelegation,
  SessionPageKey,
  SessionRecord,
  SessionStore,
  SessionWithEmail,
  SessionWithUser,
} from './sessions.js';
export type { SigningKeyStore, StoredSigningKey } from './signing-keys.js';
export type { AggregateStores, Stores } from './stores.js';
export { EmailTakenError, type UserRecord, type UserStore } from './users.js';
export type { WebhookEndpointRecord, WebhookEndpointStore } from './webhooks.js';
