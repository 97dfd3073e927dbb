import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import type {
  ApiKeyRecord,
  AuditEvent,
  AuthorizationCodeRecord,
  ConsentTicketRecord,
  LoginEnding,
  LoginsEnded,
  OAuthClientRecord,
  OAuthDelegation,
  OAuthGrantRecord,
  RefreshTokenRecord,
  RevocationRecord,
  SessionRecord,
  SessionWithUser,
  Store,
  StoredSigningKey,
  UserRecord,
} from '../ports.js';
import { FORGET_SESSIONS, FORGET_SWEPT, FORGET_USER, PUT_SESSION, TOUCH_SESSION } from './scripts.js';

/**
 * Sessions served from Redis, with the SQL store as the system of record (docs/DEPLOY.md, "Redis").
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
const SCAN_BATCH = 1_000;

export class RedisCachedStore implements Store {
  readonly engine: string;
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
    readonly inner: Store,
    options: RedisCachedStoreOptions,
  ) {
    this.engine = `${inner.engine}+redis`;
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
        await this.#forgetEverything();
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

  /** The SQL store only; /healthz pings Redis separately, to say which one is down. */
  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** Closes the SQL store; the Redis connection belongs to whoever opened it. */
  close(): Promise<void> {
    this.#redis.off('close', this.#onClose);
    this.#redis.off('ready', this.#onReady);
    return this.inner.close();
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.#putCopy(session);
    try {
      await this.inner.createSession(session);
    } catch (error) {
      await this.#forget([session.id]).catch(() => undefined);
      throw error;
    }
  }

  async #putCopy(session: SessionRecord): Promise<void> {
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
    const user = await this.inner.findUserById(session.userId);
    return user && { session, user };
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.inner.touchSession(id, lastSeenAt);
    await this.#cache(() => this.#redis.tesseraTouchSession(sessionKey(id), SEEN, lastSeenAt, id));
  }

  /** Rotation drops the copy: the session is served from SQL from then on (a password change is rare). */
  async setSessionSecret(id: string, secretHash: string): Promise<void> {
    await this.#forget([id]);
    await this.inner.setSessionSecret(id, secretHash);
  }

  async deleteSession(id: string): Promise<boolean> {
    await this.#forget([id]);
    return this.inner.deleteSession(id);
  }

  async deleteUserSessions(userId: string, keepId?: string): Promise<number> {
    // Rows the index may not know of (a copy evicted or never made) are forgotten by id too.
    const rows = (await this.inner.listUserSessions(userId)).map((s) => s.id).filter((id) => id !== keepId);
    await this.#forget(rows);
    await this.#forgetUser(userId, keepId);
    const deleted = await this.inner.deleteUserSessions(userId, keepId);
    await this.#forgetUser(userId, keepId);
    return deleted;
  }

  async deleteAllSessions(): Promise<number> {
    await this.#forgetEverything();
    const deleted = await this.inner.deleteAllSessions();
    await this.#forgetEverything();
    return deleted;
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    for (;;) {
      const [idle, expired] = (await this.#cache(() =>
        this.#redis.tesseraForgetSwept(SEEN, EXPIRES, this.#prefix, idleBefore, now, SWEEP_BATCH),
      )) as [number, number];
      if (idle < SWEEP_BATCH && expired < SWEEP_BATCH) break;
    }
    return this.inner.deleteExpiredSessions(now, idleBefore);
  }

  /**
   * The copies go first (rule 2: Redis down means 503 with nothing changed), then the one SQL
   * transaction, then the copies again for a login that raced it.
   */
  async endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    if (!ending.endSessions) return this.inner.endLogins(ending);
    const { target } = ending;
    const forget = async () => {
      if ('sessionId' in target) return this.#forget([target.sessionId]);
      if (!('userId' in target)) return this.#forgetEverything();
      const { userId, keepSessionId } = target;
      const rows = (await this.inner.listUserSessions(userId)).map((s) => s.id);
      await this.#forget(rows.filter((id) => id !== keepSessionId));
      await this.#forgetUser(userId, keepSessionId);
    };
    await forget();
    const ended = await this.inner.endLogins(ending);
    if (!('sessionId' in target)) await forget();
    return ended;
  }

  listUserSessions(userId: string): Promise<SessionRecord[]> {
    return this.inner.listUserSessions(userId);
  }

  listSessions(): Promise<SessionRecord[]> {
    return this.inner.listSessions();
  }

  async #forget(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += SWEEP_BATCH) {
      const batch = ids.slice(i, i + SWEEP_BATCH);
      await this.#cache(() => this.#redis.tesseraForgetSessions(SEEN, EXPIRES, this.#prefix, ...batch));
    }
  }

  async #forgetUser(userId: string, keepId: string | undefined): Promise<void> {
    await this.#cache(() =>
      this.#redis.tesseraForgetUser(userKey(userId), SEEN, EXPIRES, this.#prefix, userId, keepId ?? ''),
    );
  }

  /** Log everyone out: every session copy and index of this deployment (SCAN, not KEYS). */
  async #forgetEverything(): Promise<void> {
    for (const pattern of [`${this.#prefix}s:*`, `${this.#prefix}u:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#cache(() =>
          this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
        );
        cursor = next;
        // SCAN answers whole key names; ioredis prefixes the names given to UNLINK again.
        const names = keys.map((key) => key.slice(this.#prefix.length));
        if (names.length > 0) await this.#cache(() => this.#redis.unlink(...names));
      } while (cursor !== '0');
    }
    await this.#cache(() => this.#redis.unlink(SEEN, EXPIRES));
  }

  /** Runs a Redis operation; any failure of it means Redis cannot be trusted right now. */
  async #cache<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError('redis', { cause: error });
    }
  }

  // Everything else lives only in the SQL store.

  createUser(user: UserRecord): Promise<void> {
    return this.inner.createUser(user);
  }
  findUserByEmailKey(emailKey: string): Promise<UserRecord | undefined> {
    return this.inner.findUserByEmailKey(emailKey);
  }
  findUserById(id: string): Promise<UserRecord | undefined> {
    return this.inner.findUserById(id);
  }
  setPasswordHash(userId: string, passwordHash: string, updatedAt: number): Promise<void> {
    return this.inner.setPasswordHash(userId, passwordHash, updatedAt);
  }
  setUserRoles(userId: string, roles: string[], updatedAt: number): Promise<void> {
    return this.inner.setUserRoles(userId, roles, updatedAt);
  }
  setUserLock(
    userId: string,
    lockedAt: number | null,
    reason: string | null,
    updatedAt: number,
  ): Promise<void> {
    return this.inner.setUserLock(userId, lockedAt, reason, updatedAt);
  }
  listUsers(): Promise<UserRecord[]> {
    return this.inner.listUsers();
  }
  setUserEmail(userId: string, email: string, emailKey: string, updatedAt: number): Promise<void> {
    return this.inner.setUserEmail(userId, email, emailKey, updatedAt);
  }
  createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    return this.inner.createRefreshToken(token);
  }
  findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    return this.inner.findRefreshToken(id);
  }
  retireRefreshToken(id: string, retiredAt: number): Promise<boolean> {
    return this.inner.retireRefreshToken(id, retiredAt);
  }
  rotateRefreshToken(retireId: string, next: RefreshTokenRecord): Promise<boolean> {
    return this.inner.rotateRefreshToken(retireId, next);
  }
  retireOtherRefreshTokens(sessionId: string, keepId: string, retiredAt: number): Promise<void> {
    return this.inner.retireOtherRefreshTokens(sessionId, keepId, retiredAt);
  }
  listSigningKeys(): Promise<StoredSigningKey[]> {
    return this.inner.listSigningKeys();
  }
  createSigningKey(key: StoredSigningKey): Promise<void> {
    return this.inner.createSigningKey(key);
  }
  updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void> {
    return this.inner.updateSigningKeyStatus(kid, status, retiredAt);
  }
  deleteSigningKey(kid: string): Promise<boolean> {
    return this.inner.deleteSigningKey(kid);
  }
  appendAuditEvent(event: AuditEvent): Promise<void> {
    return this.inner.appendAuditEvent(event);
  }
  listAuditEvents(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]> {
    return this.inner.listAuditEvents(filter);
  }
  deleteAuditEventsBefore(before: number): Promise<number> {
    return this.inner.deleteAuditEventsBefore(before);
  }
  appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord> {
    return this.inner.appendRevocation(revocation);
  }
  listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]> {
    return this.inner.listRevocationsSince(afterSeq, now);
  }
  deleteExpiredRevocations(now: number): Promise<number> {
    return this.inner.deleteExpiredRevocations(now);
  }
  // OAuth clients, grants, codes and API keys (issue 8) live in SQL only. OAuth logins are
  // sessions of mode 'oauth': cached like every other (their delegation is a JSON field).
  createOAuthClient(client: OAuthClientRecord): Promise<void> {
    return this.inner.createOAuthClient(client);
  }
  findOAuthClient(id: string): Promise<OAuthClientRecord | undefined> {
    return this.inner.findOAuthClient(id);
  }
  listOAuthClients(): Promise<OAuthClientRecord[]> {
    return this.inner.listOAuthClients();
  }
  deleteOAuthClient(id: string): Promise<boolean> {
    return this.inner.deleteOAuthClient(id);
  }
  saveOAuthGrant(grant: OAuthGrantRecord): Promise<void> {
    return this.inner.saveOAuthGrant(grant);
  }
  findOAuthGrant(userId: string, clientId: string): Promise<OAuthGrantRecord | undefined> {
    return this.inner.findOAuthGrant(userId, clientId);
  }
  listUserOAuthGrants(userId: string): Promise<OAuthGrantRecord[]> {
    return this.inner.listUserOAuthGrants(userId);
  }
  touchOAuthGrant(userId: string, clientId: string, lastUsedAt: number): Promise<void> {
    return this.inner.touchOAuthGrant(userId, clientId, lastUsedAt);
  }
  deleteOAuthGrant(userId: string, clientId: string): Promise<boolean> {
    return this.inner.deleteOAuthGrant(userId, clientId);
  }
  createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    return this.inner.createAuthorizationCode(code);
  }
  findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.inner.findAuthorizationCode(id);
  }
  useAuthorizationCode(id: string, usedAt: number): Promise<boolean> {
    return this.inner.useAuthorizationCode(id, usedAt);
  }
  /** The login's copy first (as createSession), forgotten again when the code was already used. */
  async redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
  ): Promise<boolean> {
    await this.#putCopy(login);
    let redeemed = false;
    try {
      redeemed = await this.inner.redeemAuthorizationCode(id, usedAt, login, refreshToken);
      return redeemed;
    } finally {
      if (!redeemed) await this.#forget([login.id]).catch(() => undefined);
    }
  }
  createConsentTicket(ticket: ConsentTicketRecord): Promise<void> {
    return this.inner.createConsentTicket(ticket);
  }
  takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined> {
    return this.inner.takeConsentTicket(id);
  }
  deleteExpiredConsentTickets(before: number): Promise<number> {
    return this.inner.deleteExpiredConsentTickets(before);
  }
  deleteExpiredAuthorizationCodes(before: number): Promise<number> {
    return this.inner.deleteExpiredAuthorizationCodes(before);
  }
  listOAuthSessions(filter: { clientId: string; userId?: string }): Promise<SessionRecord[]> {
    return this.inner.listOAuthSessions(filter);
  }
  createApiKey(key: ApiKeyRecord): Promise<void> {
    return this.inner.createApiKey(key);
  }
  findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.inner.findApiKey(id);
  }
  listApiKeys(filter: { userId?: string }): Promise<ApiKeyRecord[]> {
    return this.inner.listApiKeys(filter);
  }
  revokeApiKey(id: string, revokedAt: number): Promise<boolean> {
    return this.inner.revokeApiKey(id, revokedAt);
  }
  touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    return this.inner.touchApiKey(id, lastUsedAt);
  }
}

/** Key names, relative to the connection's keyPrefix (layout: scripts.ts). */
const sessionKey = (id: string) => `s:${id}`;
const userKey = (userId: string) => `u:${userId}`;
/** Sorted sets of `<userId>:<sessionId>` by lastSeenAt and by expiresAt, for the sweep. */
const SEEN = 'sweep:seen';
const EXPIRES = 'sweep:expires';

type Arg = string | number;
interface CacheCommands {
  tesseraPutSession(...args: Arg[]): Promise<unknown>;
  tesseraTouchSession(...args: Arg[]): Promise<unknown>;
  tesseraForgetSessions(...args: Arg[]): Promise<unknown>;
  tesseraForgetUser(...args: Arg[]): Promise<unknown>;
  tesseraForgetSwept(...args: Arg[]): Promise<unknown>;
}

/** Scripts run by EVALSHA (ioredis falls back to EVAL once per connection); keys get the prefix. */
function defineCommands(redis: Redis): Redis & CacheCommands {
  redis.defineCommand('tesseraPutSession', { numberOfKeys: 4, lua: PUT_SESSION });
  redis.defineCommand('tesseraTouchSession', { numberOfKeys: 2, lua: TOUCH_SESSION });
  redis.defineCommand('tesseraForgetSessions', { numberOfKeys: 2, lua: FORGET_SESSIONS });
  redis.defineCommand('tesseraForgetUser', { numberOfKeys: 3, lua: FORGET_USER });
  redis.defineCommand('tesseraForgetSwept', { numberOfKeys: 2, lua: FORGET_SWEPT });
  return redis as Redis & CacheCommands;
}

/** The hash of a session (its id is in the key), as flat field/value arguments. */
function toHash(session: SessionRecord): Arg[] {
  return [
    'userId',
    session.userId,
    'mode',
    session.mode,
    'secretHash',
    session.secretHash,
    'createdAt',
    session.createdAt,
    'lastSeenAt',
    session.lastSeenAt,
    'expiresAt',
    session.expiresAt,
    'ip',
    session.ip,
    'userAgent',
    session.userAgent,
    ...(session.oauth ? ['oauth', JSON.stringify(session.oauth)] : []),
  ];
}

const MODES = new Set<SessionRecord['mode']>(['session', 'jwt', 'hybrid', 'oauth']);

/** A copy read back; undefined for a miss (or a copy that does not parse, which SQL then answers). */
function fromHash(id: string, hash: Record<string, string>): SessionRecord | undefined {
  const { userId, mode, secretHash, createdAt, lastSeenAt, expiresAt, ip, userAgent } = hash;
  if (userId === undefined || secretHash === undefined || ip === undefined || userAgent === undefined) {
    return undefined;
  }
  if (!MODES.has(mode as SessionRecord['mode'])) return undefined;
  const times = [createdAt, lastSeenAt, expiresAt].map(Number);
  if (!times.every(Number.isSafeInteger)) return undefined;
  const [created, lastSeen, expires] = times as [number, number, number];
  const oauth = hash.oauth === undefined ? undefined : parseDelegation(hash.oauth);
  if ((mode === 'oauth') !== (oauth !== undefined)) return undefined;
  return {
    id,
    userId,
    mode: mode as SessionRecord['mode'],
    secretHash,
    createdAt: created,
    lastSeenAt: lastSeen,
    expiresAt: expires,
    ip,
    userAgent,
    ...(oauth ? { oauth } : {}),
  };
}

/** An OAuth login's delegation (client, scopes, audience) as stored in its copy. */
function parseDelegation(json: string): OAuthDelegation | undefined {
  try {
    const { clientId, scopes, audience } = JSON.parse(json) as Partial<OAuthDelegation>;
    if (typeof clientId !== 'string' || typeof audience !== 'string') return undefined;
    if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) return undefined;
    return { clientId, scopes: [...scopes], audience };
  } catch {
    return undefined;
  }
}
