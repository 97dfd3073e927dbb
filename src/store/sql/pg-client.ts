import pg from 'pg';

/**
 * How every PostgreSQL connection Tessera opens (pool and revocation bus) survives a network
 * fault: it never crashes the process, never hangs a request for longer than a bound, and is
 * thrown away (not reused) once its state is unknown.
 */

/**
 * Server side: a statement running this long is stuck behind a lock or a broken plan.
 * Per-request queries are point lookups by key (well under a millisecond); the sweeps delete
 * in batches that finish far below this.
 */
export const STATEMENT_TIMEOUT_MS = 5_000;
/**
 * Client side: no answer at all within this (the server is partitioned away, packets dropped
 * rather than refused) fails the query and closes its connection. Just above the statement
 * timeout, so a slow statement is ended by the server first and its connection stays usable.
 */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1_000;
/**
 * How long to wait to connect, or for a free pooled connection: a database that does not
 * answer within this is down or overloaded, and the request is better failed (503) than left
 * hanging until the client gives up.
 */
export const CONNECT_TIMEOUT_MS = 5_000;
/** TCP keepalive probes start after this much idle time, so a half-open connection is noticed. */
export const KEEPALIVE_IDLE_MS = 10_000;

/** The connection settings shared by the pool's clients and the bus's dedicated one. */
export const FAIL_FAST_CONNECTION: pg.ClientConfig = {
  connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  query_timeout: QUERY_TIMEOUT_MS,
  keepAlive: true,
  keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
};

const READ_TIMEOUT = 'Query read timeout';

/**
 * pg.Client hardened for faults; the pool creates its connections from it (`Client` option).
 *
 * - An 'error' on a connection is always handled. pg-pool only listens on idle connections;
 *   one that fails while checked out (reset, pg_terminate_backend, a failover) would otherwise
 *   emit an unhandled 'error' and end the process. The query in flight still fails (503), and
 *   the pool drops the connection when it is released, since it is no longer queryable.
 * - A query that times out on the client (no answer: a partition) closes its connection: the
 *   answer may still arrive later, so the connection's state is unknown and it must not serve
 *   the next query. Closing it also fails everything queued behind it at once.
 */
export class FaultTolerantClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    const closeOnTimeout = (error: unknown) => {
      if ((error as Error | undefined)?.message === READ_TIMEOUT) this.abandon();
    };
    // Both forms pg offers: a promise (kysely, the bus) or a callback (pg.Pool#query).
    this.query = ((...args: unknown[]) => {
      const last = args.at(-1);
      if (typeof last === 'function') {
        args[args.length - 1] = (error: unknown, result: unknown) => {
          closeOnTimeout(error);
          (last as (error: unknown, result: unknown) => void)(error, result);
        };
      }
      const result = query(...args);
      if (result instanceof Promise) result.catch(closeOnTimeout);
      return result;
    }) as pg.Client['query'];
  }

  /** Closes the socket at once: whatever is in flight or queued fails with "Connection terminated". */
  abandon(): void {
    (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}
