import type { OAuth } from '../core/oauth/oauth.js';
import type { LogoutClaims } from '../core/oauth/oidc-identity.js';
import type { DeliveryRecord } from '../store/ports/index.js';
import type { FanoutHandler } from './fanout.js';
import type { DeliveryFormat } from './http-delivery.js';

/** The delivery format of OpenID Connect back-channel logout tokens. */
export const LOGOUT_TOKEN_FORMAT = 'oidc-logout';

/** What a logout delivery stores: the token's claims (no secret) and when the login ended. */
interface LogoutPayload {
  claims: LogoutClaims;
  endedAt: number;
}

/**
 * Back-Channel Logout 1.0 on the security-event outbox: every `session.revoked` event (written
 * in the transaction that ended the logins, whatever the cause: logout, logout-all, lock,
 * admin revocation, password reset, "this wasn't me", reuse detection, the expiry sweep) becomes
 * one delivery per (ended browser login, relying party with a backchannel_logout_uri). The
 * outbox retries with backoff (5 s doubling, for 24 h) and marks failures; the revocation
 * itself never waits for a relying party.
 */
export function backchannelLogoutFanout(oauth: Pick<OAuth, 'backchannelLogout'>): FanoutHandler {
  return async (event) => {
    if (event.type !== 'session.revoked') return [];
    const logins = Array.isArray(event.data.logins) ? (event.data.logins as Array<{ id?: unknown }>) : [];
    const ids = logins.map((login) => login.id).filter((id): id is string => typeof id === 'string');
    if (ids.length === 0) return [];
    const planned = await oauth.backchannelLogout.plan(ids, event.at);
    return planned.map((delivery) => ({
      url: delivery.url,
      format: LOGOUT_TOKEN_FORMAT,
      payload: { claims: delivery.claims, endedAt: delivery.endedAt } satisfies LogoutPayload,
      endpointId: delivery.clientId,
    }));
  };
}

/**
 * Back-Channel Logout 1.0 2.5: `logout_token=<JWT>` form-encoded, the JWT signed at send time
 * (`jti` = the delivery id, the same on every retry, so a relying party can drop replays).
 */
export function logoutTokenFormat(oauth: Pick<OAuth, 'identity'>): DeliveryFormat {
  return async (delivery) => {
    const { claims } = JSON.parse(delivery.payload) as LogoutPayload;
    const token = await oauth.identity.logoutToken(claims, delivery.id);
    return {
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ logout_token: token }).toString(),
    };
  };
}

/** A logout delivery as operators see it, with the delay from the login's end to acceptance. */
export function logoutDeliveryView(delivery: DeliveryRecord) {
  const { endedAt } = JSON.parse(delivery.payload) as LogoutPayload;
  return {
    id: delivery.id,
    clientId: delivery.endpointId,
    url: delivery.url,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    endedAt: new Date(endedAt).toISOString(),
    deliveredAt: delivery.deliveredAt === null ? null : new Date(delivery.deliveredAt).toISOString(),
    /** Revocation → the relying party's 2xx, in ms; null until accepted. */
    delayMs: delivery.deliveredAt === null ? null : delivery.deliveredAt - endedAt,
  };
}
