import { Webhook } from 'standardwebhooks';
import type { Keyring } from '../core/keyring.js';
import type { DeliveryRecord, WebhookEndpointStore } from '../store/ports/index.js';
import { type EncodedDelivery, PermanentDeliveryError } from './http-delivery.js';

/**
 * Standard Webhooks (standardwebhooks.com): the JSON payload as stored, signed at send time with
 * the endpoint's secret (unsealed for the moment of signing): headers webhook-id (the delivery
 * id, the same on every retry: receivers drop duplicates by it), webhook-timestamp and
 * webhook-signature (v1, HMAC-SHA256 over `id.timestamp.body`).
 */
export function standardWebhookFormat(deps: {
  endpoints: WebhookEndpointStore;
  /** The endpoint's secret (`whsec_…`), unsealed with the KEK. */
  secretOf: (endpointId: string, sealed: string) => string;
  now: () => number;
}) {
  return async (delivery: DeliveryRecord): Promise<EncodedDelivery> => {
    const endpoint = delivery.endpointId && (await deps.endpoints.findWebhookEndpoint(delivery.endpointId));
    if (!endpoint) throw new PermanentDeliveryError('the webhook endpoint was deleted');
    const webhook = new Webhook(deps.secretOf(endpoint.id, endpoint.sealedSecret));
    const timestamp = new Date(deps.now());
    return {
      contentType: 'application/json',
      body: delivery.payload,
      headers: {
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': webhook.sign(delivery.id, timestamp, delivery.payload),
      },
    };
  };
}

/**
 * Security Event Tokens (RFC 8417) pushed per RFC 8935: the stored claims get their `jti` (the
 * delivery id, stable across retries) and `iat` (now), and are signed by the keyring's active
 * key with `typ: secevent+jwt`; receivers verify against Tessera's JWKS. The body is the token;
 * RFC 8935 receivers answer 202.
 */
export function securityEventTokenFormat(deps: { keyring: () => Promise<Keyring>; now: () => number }) {
  return async (delivery: DeliveryRecord): Promise<EncodedDelivery> => {
    const keyring = await deps.keyring();
    const claims = JSON.parse(delivery.payload) as Record<string, unknown>;
    const token = keyring.signJwt('secevent+jwt', {
      ...claims,
      jti: delivery.id,
      iat: Math.floor(deps.now() / 1000),
    });
    return { contentType: 'application/secevent+jwt', body: token, headers: { accept: 'application/json' } };
  };
}
