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
  // SQLite: another connection holds the write lock beyond busy_timeout.
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong query": class 08 (connection
 * exception), 57P01-57P03 (server shutting down, crashed, starting up), 53300 (too many
 * connections), 57014 (query_canceled: the statement timeout ended a query stuck behind a lock).
 */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300|57014)$/;

/** pg's own messages for a connection that dropped or could not be had in time. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  // No answer within the client-side query timeout (a partition): see store/sql/pg-client.ts.
  'Query read timeout',
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

/** What went wrong with the database's storage, as clients and /healthz see it (a stable code). */
export type StorageProblem = 'storage_full' | 'storage_read_only' | 'storage_failed';

const STORAGE_MESSAGES: Record<StorageProblem, string> = {
  storage_full: "The database's disk is full; nothing was saved. Try again later.",
  storage_read_only: 'The database is read-only; nothing was saved. Try again later.',
  storage_failed: "The database's storage failed; nothing was saved. Try again later.",
};

/**
 * The database answered, but its storage cannot take the write (disk full, read-only, I/O
 * error, a file that went away): a 503 with a code naming it, never a 500, and /healthz is 503
 * too, so a load balancer takes the node out until an operator fixes the disk.
 */
export class StorageError extends Error {
  constructor(
    readonly problem: StorageProblem,
    options: { cause?: unknown; message?: string } = {},
  ) {
    const { message = STORAGE_MESSAGES[problem], ...rest } = options;
    super(message, rest);
    this.name = 'StorageError';
  }

  /** What a client is told: no path, no driver message. */
  get publicMessage(): string {
    return STORAGE_MESSAGES[this.problem];
  }
}

/**
 * The storage problem an error reports, if any: SQLite's extended result codes by family
 * (SQLITE_FULL, SQLITE_READONLY_*, SQLITE_IOERR_*, SQLITE_CORRUPT*, SQLITE_NOTADB,
 * SQLITE_CANTOPEN*), and PostgreSQL's 53100 disk_full and 25006 read_only_sql_transaction
 * (a replica promoted or demoted under the node). Undefined for anything else.
 */
export function storageProblem(error: unknown): StorageProblem | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof StorageError) return e.problem;
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code === 'SQLITE_FULL' || code === '53100') return 'storage_full';
    if (code.startsWith('SQLITE_READONLY') || code === '25006') return 'storage_read_only';
    if (/^SQLITE_(IOERR|CORRUPT|NOTADB|CANTOPEN)/.test(code)) return 'storage_failed';
  }
  return undefined;
}

/**
 * The configured store cannot be opened as it is (a corrupt or missing database file, a path
 * that is not a directory): the node refuses to start, and the CLI prints just this message.
 */
export class StoreSetupError extends Error {
  override name = 'StoreSetupError';
}
