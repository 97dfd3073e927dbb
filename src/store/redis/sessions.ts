import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import type {
  SessionPageKey,
  SessionRecord,
  SessionStore,
  SessionWithEmail,
  SessionWithUser,
  UserStore,
} from '../ports/index.js';
import {
  type CacheCommands,
  defineCommands,
  EXPIRES,
  forgetEverything,
  SEEN,
  sessionKey,
  userKey,
} from './scripts.js';
import { fromHash, toHash } from './session-copy.js';

/**
 * Sessions served from Redis, with the SQL sessions store as the system of record (docs/DEPLOY.md, "Redis").
 *
 * Redis holds a copy of each session written through this store: a hash per session, a set of
 * session ids per user, and two sorted sets (by last activity, by absolute expiry) for the sweep.
 * Every write goes to both; reads are served from Redis and fall back to SQL on a miss, so an
 * empty or flushed Redis is always correct, only slower. The rules that keep a revoked session
 * from ever being served again:
 *
 * 1. **Nothing is copied into Redis on a read.** A copy is made when a session is created and
 *    only updated in place afterwards (an update of a missing copy does nothing, atomically), so
 *    a reader racing a revocation can never put the revoked session back.
 * 2. **Copies go first, the row second, then the copies again.** Revocations delete the Redis
 *    copies before the SQL rows: if Redis is down the revocation fails (503) with nothing
 *    changed, instead of leaving a copy that outlives its row. A second pass after the SQL delete
 *    catches a login that raced a logout-all: its copy was written before its row (rule 3), so
 *    if the SQL delete removed the row, the second pass finds the copy.
 * 3. **A new session is copied before its row is inserted.** If the insert fails the copy is
 *    removed; if that fails too the copy is orphaned but harmless: its token was never handed out.
 * 4. **Activity goes to SQL first.** Redis's lastSeenAt is never newer than the row's, so
 *    whatever the SQL sweep finds idle is idle in Redis too, and the Redis sweep removes a
 *    superset of what the SQL sweep deletes.
 * 5. **Every copy expires** (PX = time to absolute expiry, at least 1 ms: never 0, never "no
 *    expiry"), so a missed delete cannot outlive the session's own lifetime.
 * 6. **A different Redis server is not trusted** (a failover, a restore): see #recheck.
 *
 * A Redis error (down, timeout, out of memory) is a StoreUnavailableError: 503, never a fallback
 * to SQL that could accept what Redis would have refused, never a 500.
 */
export interface RedisCachedStoreOptions {
  /** The command connection, with `prefix` as its ioredis keyPrefix. */
  redis: Redis;
  /** The keyPrefix again: the scripts build the keys of a user's sessions themselves. */
  prefix: string;
  /** The clock expiry times are measured by (the Tessera runtime's). */
  now: () => number;
}

const SWEEP_BATCH = 500;

export class RedisCachedSessionStore implements SessionStore {
  readonly #redis: Redis & CacheCommands;
  readonly #prefix: string;
  readonly #now: () => number;
  /** The Redis server (INFO run_id) whose copies are known to match SQL. */
  #trustedRunId: string | undefined;
  /** From a disconnect until the server is checked again, copies are not read. */
  #suspect = false;
  readonly #onClose = () => {
    this.#suspect = true;
  };
  readonly #onReady = () => void this.#recheck();

  constructor(
    /** The system of record. */
    readonly inner: SessionStore,
    /** Where a copy's owner is read: users are not copied to Redis. */
    private readonly users: UserStore,
    options: RedisCachedStoreOptions,
  ) {
    this.#prefix = options.prefix;
    this.#now = options.now;
    this.#redis = defineCommands(options.redis);
    void this.#serverRunId().then((runId) => {
      this.#trustedRunId ??= runId;
    });
    options.redis.on('close', this.#onClose);
    options.redis.on('ready', this.#onReady);
  }

  /**
   * After a reconnect the server may not be the one that holds our deletes: a replica promoted
   * by Sentinel (replication is asynchronous, the last DELs may not have reached it) or a
   * restart from an older RDB/AOF file. Either can hold copies of sessions revoked since. So
   * copies are not read from a disconnect until the server's run_id is checked; a different
   * server has every copy of this deployment dropped first (SQL then answers, and new logins
   * fill the cache again).
   */
  async #recheck(): Promise<void> {
    const runId = await this.#serverRunId();
    if (runId === undefined) return; // still suspect; the next 'ready' checks again
    if (runId !== this.#trustedRunId) {
      try {
        await this.forgetEveryCopy();
      } catch {
        return;
      }
      this.#trustedRunId = runId;
    }
    this.#suspect = false;
  }

  async #serverRunId(): Promise<string | undefined> {
    try {
      return /^run_id:(\w+)/m.exec(await this.#redis.info('server'))?.[1];
    } catch {
      return undefined;
    }
  }

  /** Stops listening to the connection's events (the stores are being closed). */
  detach(): void {
    this.#redis.off('close', this.#onClose);
    this.#redis.off('ready', this.#onReady);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.putCopy(session);
    try {
      await this.inner.createSession(session);
    } catch (error) {
      await this.forgetCopies([session.id]).catch(() => undefined);
      throw error;
    }
  }

  /** Copies a new login to Redis before its row is written (rule 3; also login-transactions.ts). */
  async putCopy(session: SessionRecord): Promise<void> {
    const ttlMs = Math.max(1, session.expiresAt - this.#now());
    await this.#cache(() =>
      this.#redis.tesseraPutSession(
        sessionKey(session.id),
        userKey(session.userId),
        SEEN,
        EXPIRES,
        ttlMs,
        session.id,
        `${session.userId}:${session.id}`,
        session.lastSeenAt,
        session.expiresAt,
        ...toHash(session),
      ),
    );
  }

  /** The session's copy; undefined when SQL must answer (no copy, or copies not yet trusted). */
  async #copyOf(id: string): Promise<SessionRecord | undefined> {
    if (this.#suspect) {
      // Reconnected but not checked yet: SQL answers. Still disconnected: 503, as always.
      if (this.#redis.status !== 'ready') throw new StoreUnavailableError('redis');
      return undefined;
    }
    return fromHash(id, await this.#cache(() => this.#redis.hgetall(sessionKey(id))));
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    return (await this.#copyOf(id)) ?? this.inner.findSession(id);
  }

  /** The session from its copy when there is one; the user (not copied to Redis) from SQL. */
  async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    const session = await this.#copyOf(id);
    if (!session) return this.inner.findSessionWithUser(id);
    const user = await this.users.findUserById(session.userId);
    return user && { session, user };
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.inner.touchSession(id, lastSeenAt);
    await this.#cache(() => this.#redis.tesseraTouchSession(sessionKey(id), SEEN, lastSeenAt, id));
  }

  /** A step-up drops the copy too (rare, like rotation): SQL answers for the login from then on. */
  async setSessionAuthContext(
    id: string,
    context: { authTime: number; amr: string[]; acr: string },
  ): Promise<boolean> {
    await this.forgetCopies([id]);
    return this.inner.setSessionAuthContext(id, context);
  }

  /** Rotation drops the copy: the session is served from SQL from then on (a password change is rare). */
  async setSessionSecret(id: string, secretHash: string): Promise<void> {
    await this.forgetCopies([id]);
    await this.inner.setSessionSecret(id, secretHash);
  }

  async deleteSession(id: string): Promise<boolean> {
    await this.forgetCopies([id]);
    return this.inner.deleteSession(id);
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    // Rows the index may not know of (a copy evicted or never made) are forgotten by id too.
    const rows = (await this.inner.listUserSessions(userId)).map((s) => s.id).filter((id) => id !== keepId);
    await this.forgetCopies(rows);
    await this.forgetUserCopies(userId, keepId);
    const deleted = await this.inner.deleteUserSessions(userId, keepId);
    await this.forgetUserCopies(userId, keepId);
    return deleted;
  }

  async deleteAllSessions(): Promise<number> {
    await this.forgetEveryCopy();
    const deleted = await this.inner.deleteAllSessions();
    await this.forgetEveryCopy();
    return deleted;
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    await this.forgetSwept(now, idleBefore);
    return this.inner.deleteExpiredSessions(now, idleBefore);
  }

  /** Forgets the copies of every session past its expiry at `now` or idle since `idleBefore`. */
  async forgetSwept(now: number, idleBefore: number): Promise<void> {
    for (;;) {
      const [idle, expired] = (await this.#cache(() =>
        this.#redis.tesseraForgetSwept(SEEN, EXPIRES, this.#prefix, idleBefore, now, SWEEP_BATCH),
      )) as [number, number];
      if (idle < SWEEP_BATCH && expired < SWEEP_BATCH) break;
    }
  }

  listUserSessions(userId: string): Promise<SessionRecord[]> {
    return this.inner.listUserSessions(userId);
  }

  listSessions(): Promise<SessionRecord[]> {
    return this.inner.listSessions();
  }

  listSessionsPage(query: {
    after?: SessionPageKey;
    limit: number;
    userId?: string;
  }): Promise<SessionWithEmail[]> {
    return this.inner.listSessionsPage(query);
  }

  /** OAuth logins are sessions of mode 'oauth': cached like every other (the delegation is a JSON field). */
  listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]> {
    return this.inner.listOAuthSessions(filter);
  }

  async forgetCopies(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += SWEEP_BATCH) {
      const batch = ids.slice(i, i + SWEEP_BATCH);
      await this.#cache(() => this.#redis.tesseraForgetSessions(SEEN, EXPIRES, this.#prefix, ...batch));
    }
  }

  async forgetUserCopies(userId: string, keepId: string | undefined): Promise<void> {
    await this.#cache(() =>
      this.#redis.tesseraForgetUser(userKey(userId), SEEN, EXPIRES, this.#prefix, userId, keepId ?? ''),
    );
  }

  /** Log everyone out: every session copy and index of this deployment. */
  async forgetEveryCopy(): Promise<void> {
    await this.#cache(() => forgetEverything(this.#redis, this.#prefix));
  }

  /** Runs a Redis operation; any failure of it means Redis cannot be trusted right now. */
  async #cache<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError('redis', { cause: error });
    }
  }
}
