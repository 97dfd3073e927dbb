/**
 * Webhook endpoints an operator registered (issue 21). The signing secret must be recoverable
 * to sign each delivery, so it is stored sealed under the key-encryption key (like private
 * signing keys), never in clear and never returned after creation.
 */
export interface WebhookEndpointRecord {
  id: string;
  url: string;
  /** Event types it subscribes to (core/security-events.ts). */
  events: string[];
  /** 'standard' (Standard Webhooks JSON) or 'set' (RFC 8417 tokens pushed per RFC 8935). */
  format: 'standard' | 'set';
  /** The secret sealed with the KEK (AES-256-GCM, the endpoint id as associated data); '' for 'set'. */
  sealedSecret: string;
  createdAt: number;
  createdBy: string | null;
}

export interface WebhookEndpointStore {
  createWebhookEndpoint(endpoint: WebhookEndpointRecord): Promise<void>;
  listWebhookEndpoints(): Promise<WebhookEndpointRecord[]>;
  findWebhookEndpoint(id: string): Promise<WebhookEndpointRecord | undefined>;
  deleteWebhookEndpoint(id: string): Promise<boolean>;
}
