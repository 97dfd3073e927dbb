import { Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';

/**
 * One node's Redis: a command connection shared by the session cache, the rate-limit counters
 * and the bus's publisher, plus dedicated connections duplicated from it (the bus subscriber).
 *
 * Fail fast, never hang: no offline queue (a command sent while disconnected fails at once),
 * no retry of a command whose connection dropped, and a command timeout, so a request meets
 * a dead Redis as an immediate 503 instead of waiting for a client timeout. The connection
 * itself reconnects forever in the background (at most 1 s apart), so service resumes by
 * itself when Redis is back.
 */
export interface RedisSettings {
  /** redis://, rediss:// (TLS) or redis-sentinel:// (see parseRedisUrl). Holds a password: never log it. */
  url: string;
  /** Prepended to every key (ioredis keyPrefix) and to the bus channel; one per deployment. */
  prefix: string;
}

/** A command that takes longer than this is treated as Redis being down. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect attempts back off from 50 ms to this, and never stop. */
const MAX_RECONNECT_DELAY_MS = 1_000;

const FAIL_FAST: RedisOptions = {
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS),
  // Keep probing an idle connection, so a Redis that vanished without closing it is noticed.
  keepAlive: 10_000,
};

/**
 * TESSERA_REDIS_URL as ioredis options. Accepted forms:
 *
 * - `redis://[[user]:password@]host[:port][/db]` and `rediss://…` (TLS), as ioredis reads them;
 * - `redis-sentinel://[[user]:password@]host:port[,host:port…]/<master name>[/db]` with optional
 *   query parameters `sentinelPassword`, `sentinelUsername` and `tls=true` (TLS to Redis and the
 *   sentinels): ioredis asks the sentinels for the current primary and follows failovers.
 *
 * Redis Cluster is not accepted (see docs/DEPLOY.md): the session cache updates a session, its
 * user's index and the sweep indexes in one atomic script, which needs them on one node.
 */
export function parseRedisUrl(url: string): RedisOptions & { redisUrl?: string } {
  if (/^rediss?:\/\//.test(url)) {
    if (!URL.canParse(url)) throw new Error('is not a valid URL');
    return { redisUrl: url };
  }
  const sentinel =
    /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)(?:\/(\d+))?\/?(?:\?([^#]*))?$/.exec(url);
  if (!sentinel) {
    throw new Error(
      'must be redis://host:6379, rediss://host:6380 or redis-sentinel://host:26379,host:26379/mymaster',
    );
  }
  const [, auth, hosts = '', name = '', db, query = ''] = sentinel;
  const sentinels = hosts.split(',').map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!match) throw new Error(`names a sentinel it cannot read (${JSON.stringify(entry)})`);
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2] ?? 26379) };
  });
  const params = new URLSearchParams(query);
  const [user, password] = auth === undefined ? [] : splitAuth(auth);
  const tls = params.get('tls') === 'true' ? {} : undefined;
  return {
    sentinels,
    name: decodeURIComponent(name),
    ...(db === undefined ? {} : { db: Number(db) }),
    ...(user ? { username: user } : {}),
    ...(password ? { password } : {}),
    ...(params.has('sentinelUsername') ? { sentinelUsername: params.get('sentinelUsername') as string } : {}),
    ...(params.has('sentinelPassword') ? { sentinelPassword: params.get('sentinelPassword') as string } : {}),
    ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
  };
}

function splitAuth(auth: string): [string, string] {
  const colon = auth.indexOf(':');
  if (colon < 0) return [decodeURIComponent(auth), ''];
  return [decodeURIComponent(auth.slice(0, colon)), decodeURIComponent(auth.slice(colon + 1))];
}

/** The URL with any password replaced by ***, safe to log. */
export function redactRedisUrl(url: string): string {
  return url
    .replace(/^(redis(?:s|-sentinel)?:\/\/[^:@/]*:)[^@/]*@/, '$1***@')
    .replace(/([?&]sentinelPassword=)[^&#]*/, '$1***');
}

export class RedisConnection {
  /** Commands (autopipelined); every key gets `prefix`. */
  readonly client: Redis;
  readonly #options: RedisOptions;
  readonly #url: string | undefined;
  readonly #duplicates = new Set<Redis>();

  private constructor(
    readonly settings: RedisSettings,
    options: RedisOptions & { redisUrl?: string },
  ) {
    const { redisUrl, ...rest } = options;
    this.#url = redisUrl;
    this.#options = { ...FAIL_FAST, ...rest, lazyConnect: true };
    this.client = this.#create({ keyPrefix: settings.prefix });
  }

  /**
   * Connects, and fails with one clear line when Redis does not answer at start: a wrong URL
   * should stop the node, not leave it answering 503 forever. Later outages are survived.
   */
  static async open(settings: RedisSettings): Promise<RedisConnection> {
    let options: ReturnType<typeof parseRedisUrl>;
    try {
      options = parseRedisUrl(settings.url);
    } catch (error) {
      throw new Error(`TESSERA_REDIS_URL ${(error as Error).message}`);
    }
    const connection = new RedisConnection(settings, options);
    // The 'close' that fails connect() says little; the socket's own error says why.
    let reason: Error | undefined;
    const onError = (error: Error) => {
      reason ??= error;
    };
    connection.client.on('error', onError);
    try {
      await connection.client.connect();
    } catch (error) {
      connection.client.disconnect();
      const why = (reason ?? (error as Error)).message;
      throw new StoreUnavailableError('redis', {
        cause: reason ?? error,
        message: `Redis at ${redactRedisUrl(settings.url)} does not answer: ${why}`,
      });
    } finally {
      connection.client.off('error', onError);
    }
    return connection;
  }

  /** The pub/sub channel of this deployment (ioredis does not prefix channels). */
  channel(name: string): string {
    return `${this.settings.prefix}${name}`;
  }

  /** A separate connection with the same settings and no key prefix (a subscriber); call connect(). */
  duplicate(options: RedisOptions = {}): Redis {
    const client = this.#create(options);
    this.#duplicates.add(client);
    client.once('end', () => this.#duplicates.delete(client));
    return client;
  }

  /** Resolves when Redis answers; throws StoreUnavailableError otherwise (for /healthz). */
  async ping(): Promise<void> {
    try {
      await this.client.ping();
    } catch (error) {
      throw new StoreUnavailableError('redis', { cause: error });
    }
  }

  async close(): Promise<void> {
    for (const client of [...this.#duplicates, this.client]) {
      // quit() waits for replies to what was sent; a dead connection is simply dropped.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
    this.#duplicates.clear();
  }

  #create(extra: RedisOptions): Redis {
    const options = { ...this.#options, ...extra };
    const client = this.#url === undefined ? new Redis(options) : new Redis(this.#url, options);
    // Connection errors are reported through the commands that fail (503) and /healthz; an
    // 'error' event without a listener would only print a warning per reconnect attempt.
    client.on('error', () => {});
    return client;
  }
}
