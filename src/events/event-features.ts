import type { TesseraConfig } from '../config.js';
import type { Audit } from '../core/audit.js';
import { AuthError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import type { Runtime } from '../core/runtime.js';
import { resolveKeyEncryptionKey } from '../key-encryption-key.js';
import type { Stores } from '../store/ports/index.js';
import { Destinations } from './destinations.js';
import { DEFAULT_FANOUT_POLICY, EventFanout, type FanoutHandler, type FanoutPolicy } from './fanout.js';
import { securityEventTokenFormat, standardWebhookFormat } from './formats.js';
import {
  DEFAULT_HTTP_DELIVERY_POLICY,
  type DeliveryFormat,
  DeliveryWorker,
  type HttpDeliveryPolicy,
} from './http-delivery.js';
import { Webhooks } from './webhooks.js';

/** Delivered and failed deliveries are kept this long for operators, then swept. */
const DELIVERY_RETENTION_MS = 30 * 24 * 3_600_000;
/**
 * A fanned-out event is only the queue's entry (its deliveries carry what was sent, the audit
 * log what happened): kept a day for diagnosis, so a busy deployment's table stays small.
 */
const FANNED_OUT_EVENT_RETENTION_MS = 24 * 3_600_000;

/**
 * Security events out of Tessera (issue 21), wired once for createTessera: the durable fan-out,
 * the HTTP delivery worker and webhooks. Other features plug in with `registerFanout` (an event
 * → the deliveries it needs) and `registerFormat` (how a delivery's payload becomes a request).
 */
export interface EventFeatures {
  readonly fanout: EventFanout;
  readonly delivery: DeliveryWorker;
  readonly webhooks: Webhooks;
  readonly destinations: Destinations;
  /** EventFanout.registerFanout: every event from now on also goes through `handler`. */
  registerFanout(handler: FanoutHandler): () => void;
  /** DeliveryWorker.registerFormat. */
  registerFormat(name: string, format: DeliveryFormat): void;
  /** The keyring formats sign with (session mode: opened on first use, as for OAuth). */
  keyring(): Promise<Keyring>;
  /** Runs the fan-out and the deliveries it made until both are idle (tests). */
  drain(): Promise<void>;
  start(onError: (error: unknown) => void): void;
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export function openEventFeatures(deps: {
  config: TesseraConfig;
  stores: Pick<Stores, 'securityEvents' | 'deliveries' | 'webhooks'>;
  runtime: Runtime;
  audit: Audit;
  /** The keyring that signs SETs (session mode: opened lazily, as for OAuth). */
  keyring: () => Promise<Keyring>;
  fanoutPolicy?: FanoutPolicy;
  deliveryPolicy?: HttpDeliveryPolicy;
}): EventFeatures {
  const { config, stores, runtime } = deps;
  const destinations = new Destinations({
    development: !config.production,
    allowedNetworks: config.webhookAllowedNetworks,
  });
  const delivery = new DeliveryWorker(
    stores.deliveries,
    runtime,
    destinations,
    deps.deliveryPolicy ?? DEFAULT_HTTP_DELIVERY_POLICY,
  );
  const fanout = new EventFanout(
    stores.securityEvents,
    runtime,
    () => delivery.nudge(),
    () => delivery.log,
    deps.fanoutPolicy ?? DEFAULT_FANOUT_POLICY,
  );
  let kek: Buffer | undefined;
  const webhooks = new Webhooks({
    endpoints: stores.webhooks,
    deliveries: stores.deliveries,
    destinations,
    runtime,
    audit: deps.audit,
    issuer: config.jwt.issuer,
    // Receivers verify SETs with the public JWKS: an HMAC key is never published.
    ...(config.jwt.algorithm === 'HS256' && {
      setUnsupported:
        'SETs are verified with public keys: set TESSERA_JWT_ALGORITHM to EdDSA, ES256 or RS256.',
    }),
    onRetry: () => delivery.nudge(),
    kek: () => {
      // Every node must unseal what another sealed: a per-process key would not do.
      if (!config.keyEncryptionKey && (config.production || config.database.engine === 'postgres')) {
        throw new AuthError('webhooks_unavailable');
      }
      kek ??= resolveKeyEncryptionKey(config, runtime).kek;
      return kek;
    },
  });
  fanout.registerFanout(webhooks.fanout);
  // Given up after 24 h: audited (operators alert on it), with the receiver's host, never its path.
  delivery.onGiveUp((failed, error) =>
    deps.audit.record('delivery.failed', {
      actorId: null,
      detail: {
        deliveryId: failed.id,
        eventType: failed.eventType,
        endpointId: failed.endpointId,
        host: hostOf(failed.url),
        attempts: failed.attempts,
        error,
      },
    }),
  );
  const now = () => runtime.now();
  delivery.registerFormat(
    'standard',
    standardWebhookFormat({ endpoints: stores.webhooks, secretOf: webhooks.secretOf, now }),
  );
  delivery.registerFormat('set', securityEventTokenFormat({ keyring: deps.keyring, now }));
  return {
    fanout,
    delivery,
    webhooks,
    destinations,
    registerFanout: (handler) => fanout.registerFanout(handler),
    registerFormat: (name, format) => delivery.registerFormat(name, format),
    keyring: () => deps.keyring(),
    async drain() {
      await fanout.run();
      // Passes until one claims nothing: more is due than fits in flight at once.
      for (;;) {
        const before = delivery.claimedSoFar;
        await delivery.run();
        await delivery.idle();
        if (delivery.claimedSoFar === before) return;
      }
    },
    start(onError) {
      fanout.start(onError);
      delivery.start(onError);
    },
    async sweep() {
      const now = runtime.now();
      await stores.securityEvents.deleteFannedOutEventsBefore(now - FANNED_OUT_EVENT_RETENTION_MS);
      await stores.deliveries.deleteDeliveriesBefore(now - DELIVERY_RETENTION_MS);
    },
    async close() {
      await fanout.close();
      await delivery.close();
    },
  };
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
};
