import type { Audit } from '../core/audit.js';
import type { Actor } from '../core/control.js';
import { AuthError } from '../core/errors.js';
import { open, seal } from '../core/jwt/seal.js';
import type { Runtime } from '../core/runtime.js';
import { SECURITY_EVENT_TYPES } from '../core/security-events.js';
import { newRandomId } from '../core/tokens.js';
import type {
  DeliveryOutboxStore,
  DeliveryRecord,
  DeliveryStatus,
  WebhookEndpointRecord,
  WebhookEndpointStore,
} from '../store/ports/index.js';
import { DestinationRefused, type Destinations } from './destinations.js';
import type { DeliveryDraft, SecurityEvent } from './fanout.js';
import { SET_EVENT_TYPES, securityEventTokenClaims } from './shared-signals.js';

/** What an operator sees of an endpoint: never its secret. */
export type WebhookEndpointView = Omit<WebhookEndpointRecord, 'sealedSecret'>;

/** At most this many endpoints: each event costs one delivery per subscribed endpoint. */
export const MAX_WEBHOOK_ENDPOINTS = 50;

const SECRET_BYTES = 32;

/**
 * Webhook endpoints (admin API, CLI, console) and their fan-out: each event becomes one
 * delivery per endpoint subscribed to its type, as Standard Webhooks JSON or as SETs. The
 * per-endpoint secret is shown once; at rest it is sealed with the KEK (signing needs it back).
 */
export class Webhooks {
  constructor(
    private readonly deps: {
      endpoints: WebhookEndpointStore;
      deliveries: DeliveryOutboxStore;
      destinations: Destinations;
      runtime: Runtime;
      audit: Audit;
      /** The KEK; throws AuthError('webhooks_unavailable') where no shared KEK is configured. */
      kek: () => Buffer;
      issuer: string;
      /** Why SET endpoints cannot work here (an HS256 keyring publishes no key), or undefined. */
      setUnsupported?: string;
      /** Nudges the delivery worker (a replay). */
      onRetry: () => void;
    },
  ) {}

  async create(
    input: { url: string; events: string[]; format: 'standard' | 'set' },
    actor: Actor,
  ): Promise<{ endpoint: WebhookEndpointView; secret: string | null }> {
    const allowed: readonly string[] = input.format === 'set' ? SET_EVENT_TYPES : SECURITY_EVENT_TYPES;
    const unknown = input.events.filter((type) => !allowed.includes(type));
    if (input.events.length === 0 || unknown.length > 0) {
      throw new AuthError(
        'invalid_request',
        input.events.length === 0
          ? 'events: name at least one event type.'
          : `events: ${unknown.join(', ')} cannot be delivered as ${input.format === 'set' ? 'a SET' : 'a webhook'}; known: ${allowed.join(', ')}.`,
      );
    }
    if (input.format === 'set' && this.deps.setUnsupported) {
      throw new AuthError('invalid_request', `format: ${this.deps.setUnsupported}`);
    }
    try {
      await this.deps.destinations.check(input.url);
    } catch (error) {
      if (error instanceof DestinationRefused)
        throw new AuthError('webhook_url_refused', `url: ${error.message}.`);
      throw error;
    }
    if ((await this.deps.endpoints.listWebhookEndpoints()).length >= MAX_WEBHOOK_ENDPOINTS) {
      throw new AuthError('invalid_request', `At most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints.`);
    }
    const kek = this.deps.kek();
    const id = `wh_${newRandomId(this.deps.runtime)}`;
    // A SET endpoint verifies with the public JWKS: it has no secret.
    const secret =
      input.format === 'standard'
        ? `whsec_${this.deps.runtime.randomBytes(SECRET_BYTES).toString('base64')}`
        : null;
    const record: WebhookEndpointRecord = {
      id,
      url: input.url,
      events: [...new Set(input.events)],
      format: input.format,
      sealedSecret: secret
        ? seal(Buffer.from(secret, 'utf8'), kek, associatedData(id), this.deps.runtime)
        : '',
      createdAt: this.deps.runtime.now(),
      createdBy: actor.actorId ?? null,
    };
    await this.deps.endpoints.createWebhookEndpoint(record);
    await this.deps.audit.record('webhook.created', {
      ...actor,
      detail: { endpointId: id, url: record.url, events: record.events, format: record.format },
    });
    return { endpoint: view(record), secret };
  }

  async list(): Promise<WebhookEndpointView[]> {
    return (await this.deps.endpoints.listWebhookEndpoints()).map(view);
  }

  /** Deletes the endpoint; its pending deliveries stop (failed, "endpoint deleted"). */
  async delete(id: string, actor: Actor): Promise<boolean> {
    const endpoint = await this.deps.endpoints.findWebhookEndpoint(id);
    if (!endpoint || !(await this.deps.endpoints.deleteWebhookEndpoint(id))) return false;
    await this.deps.deliveries.abandonEndpointDeliveries(id, 'the webhook endpoint was deleted');
    await this.deps.audit.record('webhook.deleted', {
      ...actor,
      detail: { endpointId: id, url: endpoint.url },
    });
    return true;
  }

  async find(id: string): Promise<WebhookEndpointView | undefined> {
    const found = await this.deps.endpoints.findWebhookEndpoint(id);
    return found && view(found);
  }

  deliveries(
    endpointId: string,
    query: { status?: DeliveryStatus; limit: number; before?: { createdAt: number; id: string } },
  ): Promise<DeliveryRecord[]> {
    return this.deps.deliveries.listDeliveries({ endpointId, ...query });
  }

  /** Replays one delivery of this endpoint now (any status); false when it is not this endpoint's. */
  async retry(endpointId: string, deliveryId: string, actor: Actor): Promise<boolean> {
    const delivery = await this.deps.deliveries.findDelivery(deliveryId);
    if (delivery?.endpointId !== endpointId) return false;
    if (!(await this.deps.endpoints.findWebhookEndpoint(endpointId))) return false;
    await this.deps.deliveries.retryDelivery(deliveryId, this.deps.runtime.now());
    await this.deps.audit.record('webhook.replayed', { ...actor, detail: { endpointId, deliveryId } });
    this.deps.onRetry();
    return true;
  }

  /** An endpoint's latest delivery and latest failure (the console's list). */
  async lastOf(
    endpointId: string,
  ): Promise<{ last: DeliveryRecord | undefined; lastFailure: DeliveryRecord | undefined }> {
    const [last] = await this.deps.deliveries.listDeliveries({ endpointId, limit: 1 });
    const [lastFailure] = await this.deps.deliveries.listDeliveries({
      endpointId,
      status: 'failed',
      limit: 1,
    });
    return { last, lastFailure };
  }

  /** The endpoint's signing secret, for the Standard Webhooks encoder at send time. */
  readonly secretOf = (endpointId: string, sealed: string): string =>
    open(sealed, this.deps.kek(), associatedData(endpointId)).toString('utf8');

  /** The fan-out handler: one draft per subscribed endpoint (per SET for `set` endpoints). */
  readonly fanout = async (event: SecurityEvent): Promise<DeliveryDraft[]> => {
    const endpoints = await this.deps.endpoints.listWebhookEndpoints();
    const drafts: DeliveryDraft[] = [];
    for (const endpoint of endpoints) {
      if (!endpoint.events.includes(event.type)) continue;
      if (endpoint.format === 'standard') {
        drafts.push({
          url: endpoint.url,
          format: 'standard',
          endpointId: endpoint.id,
          payload: standardPayload(event),
        });
        continue;
      }
      for (const claims of securityEventTokenClaims(event, this.deps.issuer, endpoint.url)) {
        drafts.push({ url: endpoint.url, format: 'set', endpointId: endpoint.id, payload: claims });
      }
    }
    return drafts;
  };
}

/** The Standard Webhooks payload convention: type, timestamp, data (ids and facts). */
export function standardPayload(event: SecurityEvent): Record<string, unknown> {
  return {
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: { eventId: event.id, userId: event.userId, ...event.data },
  };
}

const associatedData = (endpointId: string) => `webhook-secret:${endpointId}`;

const view = ({ sealedSecret: _secret, ...endpoint }: WebhookEndpointRecord): WebhookEndpointView => endpoint;
