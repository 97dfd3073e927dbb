import type { AggregateStores } from '../../store/ports/index.js';
import type { Sessions } from '../sessions.js';
import type { LogoutClaims, OidcIdentity } from './oidc-identity.js';

/** One logout token to deliver: where, to whom, and what it says (signed when sent). */
export interface LogoutDelivery {
  url: string;
  clientId: string;
  claims: LogoutClaims;
  /** When the login ended (ms): delivery delay = the relying party's acceptance − this. */
  endedAt: number;
}

/**
 * OpenID Connect Back-Channel Logout 1.0, the provider's side: when browser logins end, for
 * whatever reason (every ending goes through Sessions and LoginEndingStore.endLogins), each
 * relying party they signed into (oidc_rp_logins) that registered a `backchannel_logout_uri`
 * is sent one logout token per (login, relying party). The deliveries are made by the
 * security-event outbox (durable, retried with backoff, any node), never in the request that
 * ended the login, so a relying party that is down or slow never delays or blocks a revocation.
 *
 * Planning is free of side effects on the outbox and may run twice for one ending (a node
 * crashed before committing): it only reads. The relying-party rows stay until the sweep
 * (they are what a re-run reads). The delegations born of those sign-ins are ended too (2.7:
 * no offline_access); ending an ended login is a no-op, so a re-run changes nothing.
 */
export class BackchannelLogout {
  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'relyingPartyLogins' | 'oauthClients'>;
      sessions: Sessions;
      identity: OidcIdentity;
    },
  ) {}

  async plan(endedLoginIds: readonly string[], endedAt: number): Promise<LogoutDelivery[]> {
    const { stores, identity } = this.deps;
    const logins = await stores.relyingPartyLogins.listRelyingPartyLogins(endedLoginIds);
    const deliveries: LogoutDelivery[] = [];
    const seen = new Set<string>();
    for (const login of logins) {
      const key = `${login.sessionId} ${login.clientId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const client = await stores.oauthClients.findOAuthClient(login.clientId);
      const url = client?.oidc?.backchannelLogoutUri;
      if (!client || !url) continue;
      deliveries.push({
        url,
        clientId: client.id,
        claims: await identity.logoutClaims(client, login.userId, login.sessionId),
        endedAt,
      });
    }
    for (const login of logins) await this.deps.sessions.revoke(login.delegationId, 'oauth_revoked');
    return deliveries;
  }
}
