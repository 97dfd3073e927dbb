import type { RevocationBus } from './bus.js';
import { decodeRevocation, encodeRevocation } from './bus-message.js';
import type { RevocationRecord } from './ports/index.js';

/** The IPC message type the cluster primary relays between workers (src/cli/workers.ts). */
export const CLUSTER_BUS_MESSAGE = 'tessera:revocation';

interface BusMessage {
  type: typeof CLUSTER_BUS_MESSAGE;
  record: string;
}

const isBusMessage = (message: unknown): message is BusMessage =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === CLUSTER_BUS_MESSAGE &&
  typeof (message as { record?: unknown }).record === 'string';

/**
 * The revocation bus between the worker processes of one `tessera serve --workers N` on SQLite
 * (PostgreSQL and Redis have buses of their own that already reach every process): a worker
 * sends the record to the cluster primary over its IPC channel, and the primary relays it to
 * every other worker. Like every bus it is fast, not reliable: a message lost to a dying
 * primary or a worker restart is a gap the revocation log's catch-up covers (every 2 s, and at
 * once on a sequence gap, core/revocations.ts).
 */
export class ClusterBus implements RevocationBus {
  readonly engine = 'cluster';
  readonly #handlers = new Set<(message: unknown) => void>();

  async publish(record: RevocationRecord): Promise<void> {
    if (!process.send || !process.connected) return;
    const message: BusMessage = { type: CLUSTER_BUS_MESSAGE, record: encodeRevocation(record) };
    // With a callback, a channel closing meanwhile is reported to it instead of thrown.
    process.send(message, undefined, {}, () => undefined);
  }

  async subscribe(listener: (record: RevocationRecord) => void, onGap: () => void): Promise<() => void> {
    const handler = (message: unknown) => {
      if (!isBusMessage(message)) return;
      const record = decodeRevocation(message.record);
      if (record) listener(record);
      else onGap();
    };
    this.#handlers.add(handler);
    process.on('message', handler);
    return () => {
      this.#handlers.delete(handler);
      process.off('message', handler);
    };
  }

  async close(): Promise<void> {
    for (const handler of this.#handlers) process.off('message', handler);
    this.#handlers.clear();
  }
}
