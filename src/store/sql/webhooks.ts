import type { Kysely, Selectable } from 'kysely';
import type { WebhookEndpointRecord, WebhookEndpointStore } from '../ports/index.js';
import type { Database } from './schema.js';
import { type EventDatabase, withEventTables } from './schema-events.js';

type EndpointRow = Selectable<EventDatabase['webhook_endpoints']>;

export class SqlWebhookEndpointStore implements WebhookEndpointStore {
  readonly #db: Kysely<EventDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEventTables(db);
  }

  async createWebhookEndpoint(endpoint: WebhookEndpointRecord): Promise<void> {
    await this.#db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoint.id,
        url: endpoint.url,
        events: JSON.stringify(endpoint.events),
        format: endpoint.format,
        sealed_secret: endpoint.sealedSecret,
        created_at: endpoint.createdAt,
        created_by: endpoint.createdBy,
      })
      .execute();
  }

  async listWebhookEndpoints(): Promise<WebhookEndpointRecord[]> {
    const rows = await this.#db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromEndpointRow);
  }

  async findWebhookEndpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
    const row = await this.#db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromEndpointRow(row);
  }

  async deleteWebhookEndpoint(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

const fromEndpointRow = (row: EndpointRow): WebhookEndpointRecord => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  format: row.format === 'set' ? 'set' : 'standard',
  sealedSecret: row.sealed_secret,
  createdAt: Number(row.created_at),
  createdBy: row.created_by,
});
