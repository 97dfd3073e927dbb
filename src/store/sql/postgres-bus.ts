import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { RevocationBus } from '../bus.js';
import { decodeRevocation, encodeRevocation } from '../bus-message.js';
import type { RevocationRecord } from '../ports/index.js';
import { FAIL_FAST_CONNECTION, FaultTolerantClient } from './pg-client.js';

/** Reconnect attempts back off from 100 ms to this, and never stop. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * The revocation bus over PostgreSQL LISTEN/NOTIFY, for deployments without Redis: one dedicated
 * connection per node (outside the pool: a LISTEN belongs to its session) that both listens
 * and notifies.
 *
 * NOTIFY channels are per database, not per schema, so the channel is named after the schema
 * the tables are in: two deployments sharing a database in different schemas (tests do) never
 * hear each other. Delivery stops while the connection is down; whenever it drops, and again
 * once LISTEN is back, the node is told it may have missed something (`onGap`) and catches up
 * from the revocation log.
 */
export class PostgresRevocationBus implements RevocationBus {
  readonly engine = 'postgres';
  readonly #config: pg.ClientConfig;
  #client: FaultTolerantClient | undefined;
  #channel: string | undefined;
  #listener: ((record: RevocationRecord) => void) | undefined;
  #onGap: (() => void) | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #attempt = 0;

  constructor(url: string, options: { schema?: string } = {}) {
    this.#config = {
      connectionString: url,
      application_name: 'tessera-bus',
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
      // Connect and query timeouts; a half-open connection (a cut cable) is noticed by TCP
      // keepalive, not by a LISTEN that waits forever.
      ...FAIL_FAST_CONNECTION,
    };
  }

  async publish(record: RevocationRecord): Promise<void> {
    const client = this.#client;
    if (!client || this.#channel === undefined) throw new Error('the revocation bus is not connected');
    await client.query('select pg_notify($1, $2)', [this.#channel, encodeRevocation(record)]);
  }

  async subscribe(listener: (record: RevocationRecord) => void, onGap: () => void): Promise<() => void> {
    this.#listener = listener;
    this.#onGap = onGap;
    await this.#connect(true);
    return () => {
      this.#listener = undefined;
      this.#onGap = undefined;
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** At start a failure is thrown (the node does not start); later ones are retried forever. */
  async #connect(initial = false): Promise<void> {
    // Its 'error' handler is onLost below; a query that times out closes it (then onLost too).
    const client = new FaultTolerantClient(this.#config);
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => undefined);
      if (this.#closed || initial) return;
      this.#onGap?.();
      this.#scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel !== this.#channel) return;
      const record = message.payload === undefined ? undefined : decodeRevocation(message.payload);
      if (record) this.#listener?.(record);
      else this.#onGap?.();
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ schema: string | null }>('select current_schema() as schema');
      const schema = rows[0]?.schema;
      if (!schema) throw new Error('no schema: the search_path names no existing schema');
      this.#channel = channelFor(schema);
      await client.query(`listen "${this.#channel}"`);
    } catch (error) {
      onLost();
      throw error;
    }
    // From now on a lost connection is survived, not thrown.
    initial = false;
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#attempt = 0;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    const delay = Math.min(100 * 2 ** this.#attempt++, MAX_RECONNECT_DELAY_MS);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect().then(
        // LISTEN is back: whatever was sent while it was down is in the log.
        () => this.#onGap?.(),
        // #connect's failure path already scheduled the next attempt.
        () => undefined,
      );
    }, delay);
    this.#retry.unref();
  }
}

/** A channel name unique to the schema, short enough for PostgreSQL's 63-byte identifiers. */
export function channelFor(schema: string): string {
  return `tessera_revocations_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}
