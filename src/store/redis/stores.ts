import type { Stores } from '../ports/index.js';
import { RedisCachedLoginEndingStore, withCachedRedemption } from './login-transactions.js';
import { RedisCachedSessionStore, type RedisCachedStoreOptions } from './sessions.js';

/**
 * TESSERA_REDIS_URL: the stores with their sessions served from Redis (RedisCachedSessionStore).
 * Every other aggregate lives only in SQL and is handed on as it is, except the two transactions
 * that create or end logins across aggregates (login-transactions.ts), which keep the copies in step.
 */
export function withRedisSessionCache(stores: Stores, options: RedisCachedStoreOptions): Stores {
  const sessions = new RedisCachedSessionStore(stores.sessions, stores.users, options);
  const { users, refreshTokens, signingKeys, audit, revocations } = stores;
  const { oauthClients, oauthGrants, apiKeys, consentTickets, relyingPartyLogins } = stores;
  const { securityEvents, deliveries, webhooks } = stores;
  return {
    engine: `${stores.engine}+redis`,
    users,
    sessions,
    refreshTokens,
    signingKeys,
    audit,
    revocations,
    oauthClients,
    oauthGrants,
    authorizationCodes: withCachedRedemption(stores.authorizationCodes, sessions),
    apiKeys,
    consentTickets,
    relyingPartyLogins,
    loginEndings: new RedisCachedLoginEndingStore(stores.loginEndings, sessions, stores.sessions),
    securityEvents,
    deliveries,
    webhooks,
    // The SQL database only; /healthz pings Redis separately, to say which one is down.
    ping: () => stores.ping(),
    // The Redis connection belongs to whoever opened it.
    close: () => {
      sessions.detach();
      return stores.close();
    },
  };
}
