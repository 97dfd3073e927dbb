/**
 * A dependency the store needs (the database, Redis) does not answer. The HTTP layer answers
 * 503 `store_unavailable` for it: the request may be retried, and nothing was accepted that
 * the missing state could have refused.
 */
export class StoreUnavailableError extends Error {
  constructor(
    /** Which dependency failed, as /healthz names it. */
    readonly dependency: 'store' | 'redis',
    options: { cause?: unknown; message?: string } = {},
  ) {
    const { message = `${dependency === 'redis' ? 'Redis' : 'the store'} does not answer`, ...rest } =
      options;
    super(message, rest);
    this.name = 'StoreUnavailableError';
  }
}

/** Socket-level failures: the peer is down, unreachable or went away mid-request. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong query": class 08 (connection
 * exception), 57P01-57P03 (server shutting down, crashed, starting up), 53300 (too many
 * connections).
 */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;

/** pg's own messages for a connection that dropped or could not be had in time. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/**
 * True for errors that say a store's server is unreachable, not that a query is wrong: the
 * request can be retried later, so it is a 503, never a 500.
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true;
    if (PG_MESSAGES.some((message) => e instanceof Error && e.message.startsWith(message))) return true;
  }
  return false;
}
