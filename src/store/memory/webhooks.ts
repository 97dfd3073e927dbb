import type { WebhookEndpointRecord, WebhookEndpointStore } from '../ports/index.js';
import { compareIds, type MemoryTables } from './tables.js';

const copy = (e: WebhookEndpointRecord): WebhookEndpointRecord => ({ ...e, events: [...e.events] });

export class MemoryWebhookEndpointStore implements WebhookEndpointStore {
  constructor(private readonly tables: MemoryTables) {}

  async createWebhookEndpoint(endpoint: WebhookEndpointRecord): Promise<void> {
    if (this.tables.webhooks.has(endpoint.id)) throw new Error(`duplicate webhook endpoint ${endpoint.id}`);
    this.tables.webhooks.set(endpoint.id, copy(endpoint));
  }

  async listWebhookEndpoints(): Promise<WebhookEndpointRecord[]> {
    return [...this.tables.webhooks.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id))
      .map(copy);
  }

  async findWebhookEndpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
    const e = this.tables.webhooks.get(id);
    return e && copy(e);
  }

  async deleteWebhookEndpoint(id: string): Promise<boolean> {
    return this.tables.webhooks.delete(id);
  }
}
