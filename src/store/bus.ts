import type { RevocationRecord } from './ports/index.js';

/**
 * The revocation bus: how a revocation made on one node reaches every other node at once.
 * Delivery may be lost or reordered (a disconnect, a restart); receivers detect gaps by
 * sequence number and catch up from the revocation log, so the bus only has to be fast, not
 * reliable. Engines: in-process (one node, or several in one process for tests); PostgreSQL
 * LISTEN/NOTIFY and Redis pub/sub for many nodes.
 */
export interface RevocationBus {
  readonly engine: string;
  publish(record: RevocationRecord): Promise<void>;
  /** Delivers every record published from now on; `onGap` when delivery may have missed some. */
  subscribe(listener: (record: RevocationRecord) => void, onGap: () => void): Promise<() => void>;
  close(): Promise<void>;
}
