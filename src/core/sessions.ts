import type {
  AggregateStores,
  LoginEnding,
  MaybePromise,
  SessionPageKey,
  SessionRecord,
  SessionWithEmail,
  SessionWithUser,
} from '../store/ports/index.js';
import { AMR, type AuthContext, authContextOf } from './auth-context.js';
import type { Revocations } from './revocations.js';
import type { Runtime } from './runtime.js';
import { type EndCause, sessionRevokedEvent } from './security-events.js';
import { issueToken, newRandomId, parseToken, secretMatches } from './tokens.js';

export interface SessionPolicy {
  /** A session unused this long ends (OWASP: 15-30 min for high-value apps). */
  idleTimeoutMs: number;
  /** A session ends this long after login however active it is. */
  absoluteTimeoutMs: number;
}

/**
 * Sliding renewal writes `lastSeenAt` at most this often, so a busy session costs one
 * read per request, not a read and a write. The price: idle expiry may come up to this much
 * early, never late.
 */
export const RENEWAL_INTERVAL_MS = 60_000;

/** Expired logins the sweep ends per transaction (and names per `session.revoked` event). */
export const SWEEP_BATCH = 500;

/** What ended: logins (sessions and token families) and API keys. */
export interface Ended {
  sessions: number;
  apiKeys: number;
}

/** How a user's logins end (Sessions.endUserLogins). */
export interface UserEnding {
  /** Why, as the `session.revoked` event says it (default `logout_all`). */
  cause?: EndCause;
  /** The caller's own login, kept (a password change continues it under new credentials). */
  except?: string;
  /** The account change that ends them, in the same transaction (lock, roles, password). */
  account?: LoginEnding['account'];
  /** A role change: logins go on (hybrid: their access tokens are revoked) and keys stay. */
  keepLogins?: boolean;
  /** Refuse (LastAdminError) rather than leave no unlocked admin. */
  keepAnAdmin?: boolean;
}

/**
 * Whether a request is the user's own activity. A background request (a console's poller)
 * still needs a live login but does not renew it: an idle user is signed out on time however
 * often their open page polls.
 */
export interface Activity {
  background?: boolean;
}

export interface ClientContext {
  ip: string;
  userAgent: string;
}

/** Server-side sessions: create, validate with idle/absolute expiry, rotate, revoke. */
export class Sessions {
  constructor(
    /** Logins are read and created in `sessions`; every ending goes through `loginEndings`. */
    private readonly stores: Pick<AggregateStores, 'sessions' | 'loginEndings'>,
    private readonly runtime: Runtime,
    readonly policy: SessionPolicy,
    /** Hybrid mode: ending a login must also reach the in-memory state of every node. */
    private readonly revocations?: Revocations,
    /** A `session.revoked` event was committed: fan it out now rather than at the next poll. */
    private readonly onEvent: () => void = () => undefined,
  ) {}

  /**
   * A session-mode login: the returned token is the credential, shown to the client once.
   * `amr`: how the user proved who they are (RFC 8176), a password alone unless told otherwise.
   */
  async create(
    userId: string,
    client: ClientContext,
    amr: readonly string[] = [AMR.password],
  ): Promise<{ token: string; session: SessionRecord }> {
    const { id, token, secretHash } = issueToken(this.runtime);
    const context = authContextOf(amr, this.runtime.now());
    return { token, session: await this.#insert(id, userId, 'session', secretHash, client, context) };
  }

  /**
   * A jwt-mode login: the record is the refresh-token family (its id is the tokens' `sid`).
   * It has no secret of its own, so no session token can ever open it.
   */
  createFamily(
    userId: string,
    client: ClientContext,
    mode: 'jwt' | 'hybrid',
    amr: readonly string[] = [AMR.password],
  ): Promise<SessionRecord> {
    const context = authContextOf(amr, this.runtime.now());
    return this.#insert(newRandomId(this.runtime), userId, mode, '', client, context);
  }

  /**
   * A fresh proof on an existing login (step-up, `POST /auth/reauthenticate`): auth_time
   * becomes `at` and amr exactly what was just proven (never merged with older proofs, so
   * "fresh within 5 minutes with otp" cannot be met by an old otp and a new password). No new
   * login is made. The context recorded, or undefined when the login is gone. In jwt/hybrid
   * mode access tokens already issued keep the old values: the caller reissues one.
   */
  async recordProof(sessionId: string, amr: readonly string[], at: number): Promise<AuthContext | undefined> {
    const context = authContextOf(amr, at);
    return (await this.stores.sessions.setSessionAuthContext(sessionId, context)) ? context : undefined;
  }

  /**
   * A login a user delegated to a third-party application (OAuth): a refresh-token family like
   * jwt mode's, bound to the client, its granted scopes and resource. `id` is chosen when the
   * authorization code is issued, so a reused code can end the login it produced. Returned,
   * not stored: the authorization-code store's redeemAuthorizationCode stores it in one
   * transaction with the code's use.
   */
  oauthFamilyRecord(
    id: string,
    userId: string,
    client: ClientContext,
    oauth: NonNullable<SessionRecord['oauth']>,
    /** The consenting browser login's proof: a delegation inherits it, never a fresher one. */
    inherited: { authTime: number; amr: readonly string[] },
  ): SessionRecord {
    return this.#record(
      id,
      userId,
      'oauth',
      '',
      client,
      authContextOf(inherited.amr, inherited.authTime),
      oauth,
    );
  }

  async #insert(
    id: string,
    userId: string,
    mode: SessionRecord['mode'],
    secretHash: string,
    client: ClientContext,
    context: AuthContext,
  ): Promise<SessionRecord> {
    const session = this.#record(id, userId, mode, secretHash, client, context);
    await this.stores.sessions.createSession(session);
    return session;
  }

  #record(
    id: string,
    userId: string,
    mode: SessionRecord['mode'],
    secretHash: string,
    client: ClientContext,
    context: AuthContext,
    oauth?: SessionRecord['oauth'],
  ): SessionRecord {
    const now = this.runtime.now();
    return {
      id,
      userId,
      mode,
      secretHash,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.absoluteTimeoutMs,
      ip: client.ip,
      userAgent: client.userAgent,
      authTime: context.authTime,
      amr: context.amr,
      acr: context.acr,
      ...(oauth && { oauth }),
    };
  }

  /**
   * The live session a presented token belongs to, with its owner (one store read), or
   * undefined. Never throws on bad input. Whether the owner may still log in is the caller's call.
   */
  validate(presented: string, activity?: Activity): MaybePromise<SessionWithUser | undefined> {
    const parsed = parseToken(presented);
    if (!parsed) return undefined;
    // Synchronous from end to end when the engine reads synchronously (memory, SQLite) and no
    // renewal write is due, as on nearly every request: no promise, no microtask turn.
    const found = this.stores.sessions.findSessionWithUser(parsed.id);
    return found instanceof Promise
      ? found.then((row) => this.#checked(parsed.secret, row, activity))
      : this.#checked(parsed.secret, found, activity);
  }

  /** validate's checks on the row read: mode, secret (constant time), expiry, renewal. */
  #checked(
    secret: string,
    found: SessionWithUser | undefined,
    activity?: Activity,
  ): MaybePromise<SessionWithUser | undefined> {
    if (found?.session.mode !== 'session' || !secretMatches(secret, found.session.secretHash)) {
      return undefined;
    }
    if (this.#needsNoWrite(found.session, activity)) return found;
    return this.renew(found.session, activity).then((session) => session && { session, user: found.user });
  }

  /** Live, and either a background request or renewed less than a minute ago: renew would not write. */
  #needsNoWrite(session: SessionRecord, activity?: Activity): boolean {
    const now = this.runtime.now();
    return (
      now < this.idleExpiresAt(session) &&
      now < session.expiresAt &&
      (activity?.background === true || now - session.lastSeenAt < RENEWAL_INTERVAL_MS)
    );
  }

  /**
   * Enforces idle and absolute expiry (an expired session is deleted) and records activity
   * (sliding renewal, unless the request is a background one); the live session, or undefined.
   */
  async renew(session: SessionRecord, activity?: Activity): Promise<SessionRecord | undefined> {
    const now = this.runtime.now();
    if (now >= this.idleExpiresAt(session) || now >= session.expiresAt) {
      // Through the one ending path, so the expiry is a security event like the sweep's.
      await this.#end({
        target: { sessionId: session.id },
        endSessions: true,
        event: sessionRevokedEvent(this.runtime, 'expired', session.userId),
      });
      return undefined;
    }
    if (!activity?.background && now - session.lastSeenAt >= RENEWAL_INTERVAL_MS) {
      await this.stores.sessions.touchSession(session.id, now);
      session.lastSeenAt = now;
    }
    return session;
  }

  /** The live session with this id, whatever its mode, or undefined. */
  async find(id: string, activity?: Activity): Promise<SessionRecord | undefined> {
    const session = await this.stores.sessions.findSession(id);
    return session && this.renew(session, activity);
  }

  /** The live login with this id and its owner (one store read), or undefined. */
  async findLive(id: string, activity?: Activity): Promise<SessionWithUser | undefined> {
    const found = await this.stores.sessions.findSessionWithUser(id);
    const session = found && (await this.renew(found.session, activity));
    return session && { session, user: found.user };
  }

  idleExpiresAt(session: SessionRecord): number {
    return session.lastSeenAt + this.policy.idleTimeoutMs;
  }

  /** When the session ends if the user does nothing more: the earlier of the two expiries. */
  expiresAt(session: SessionRecord): number {
    return Math.min(this.idleExpiresAt(session), session.expiresAt);
  }

  /** New secret for the same session-mode session (after a password change); the old token stops working. */
  async rotate(session: SessionRecord): Promise<string> {
    const { token, secretHash } = issueToken(this.runtime, session.id);
    await this.stores.sessions.setSessionSecret(session.id, secretHash);
    return token;
  }

  /*
   * When a login ends, everything it could do ends: every way a login or a user's logins end
   * (logout, device removal, logout-all, password change, lock, role change, admin revocation,
   * log everyone out, reuse detection) comes through the three methods below and so through
   * one store transaction (LoginEndingStore.endLogins): the account change, the deleted logins
   * (their refresh tokens go with them), the user's API keys (a key belongs to its user, not to a
   * login: whatever ends every login of a user ends the keys too, for good) and, in hybrid
   * mode, the revocation-log record. Nothing or all of it is recorded; only then is the record
   * applied on this node and published to the others (best effort: they also poll the log).
   */

  /** Ends one login; false when there was no such login. `cause` goes into the security event. */
  async revoke(sessionId: string, cause: EndCause = 'logout'): Promise<boolean> {
    const ended = await this.#end({
      target: { sessionId },
      endSessions: true,
      revocation: this.revocations?.plan('session', sessionId),
      event: sessionRevokedEvent(this.runtime, cause, null),
    });
    return ended.sessions > 0;
  }

  /**
   * Ends every login of the user but `exceptSessionId`, and revokes the user's API keys. In
   * hybrid mode every access token of the user issued until now is revoked, the kept login's
   * too: its caller reissues it.
   */
  async revokeAllOfUser(
    userId: string,
    exceptSessionId?: string,
    cause: EndCause = 'logout_all',
  ): Promise<number> {
    return (await this.endUserLogins(userId, { except: exceptSessionId, cause })).sessions;
  }

  /** Ends the user's logins and keys as `ending` says, with the account change that causes it. */
  endUserLogins(userId: string, ending: UserEnding = {}): Promise<Ended> {
    return this.#end({
      target: { userId, ...(ending.except !== undefined && { keepSessionId: ending.except }) },
      ...(ending.account && { account: ending.account }),
      endSessions: !ending.keepLogins,
      ...(!ending.keepLogins && { revokeApiKeysAt: this.runtime.now() }),
      ...(ending.keepAnAdmin && { keepAnAdmin: true }),
      revocation: this.revocations?.plan('user', userId),
      event: sessionRevokedEvent(this.runtime, ending.cause ?? 'logout_all', userId),
    });
  }

  /** Ends every login and API key of everyone (and, in hybrid mode, every access token issued until now). */
  async revokeEveryone(): Promise<number> {
    return (await this.endEveryone()).sessions;
  }

  endEveryone(): Promise<Ended> {
    return this.#end({
      target: { everyone: true },
      endSessions: true,
      revokeApiKeysAt: this.runtime.now(),
      revocation: this.revocations?.plan('all', '*'),
      event: sessionRevokedEvent(this.runtime, 'logout_everyone', null, { everyone: true }),
    });
  }

  async #end(ending: LoginEnding): Promise<Ended> {
    const { sessions, apiKeys, revocation } = await this.stores.loginEndings.endLogins(ending);
    if (ending.event && sessions > 0) this.onEvent();
    if (revocation) await this.revocations?.applied(revocation);
    return { sessions, apiKeys };
  }

  /** The user's live sessions, newest first. */
  async listOfUser(userId: string): Promise<SessionRecord[]> {
    const now = this.runtime.now();
    return (await this.stores.sessions.listUserSessions(userId)).filter((s) => now < this.expiresAt(s));
  }

  /**
   * One page of sessions (all, or one user's), newest first, with each owner's email: one indexed
   * store read of `limit` rows. Expired-but-unswept rows are dropped from the page, so it may be
   * shorter than `limit`; `lastKey` is the last row read, where the next page starts (null: the
   * store had no more).
   */
  async page(query: {
    after?: SessionPageKey;
    limit: number;
    userId?: string;
  }): Promise<{ rows: SessionWithEmail[]; lastKey: SessionPageKey | null }> {
    const now = this.runtime.now();
    const read = await this.stores.sessions.listSessionsPage(query);
    const last = read.length === query.limit ? read[read.length - 1]?.session : undefined;
    return {
      rows: read.filter((row) => now < this.expiresAt(row.session)),
      lastKey: last ? { createdAt: last.createdAt, id: last.id } : null,
    };
  }

  /**
   * Deletes every expired session; returns how many. In batches of SWEEP_BATCH, each one ending
   * (one transaction) with its `session.revoked` event (cause `expired`), so expiry reaches
   * subscribers like any other ending and no event names an unbounded list.
   */
  async sweep(): Promise<number> {
    const now = this.runtime.now();
    const expired = { now, idleBefore: now - this.policy.idleTimeoutMs, limit: SWEEP_BATCH };
    let total = 0;
    for (;;) {
      const { sessions } = await this.#end({
        target: { expired },
        endSessions: true,
        event: sessionRevokedEvent(this.runtime, 'expired', null),
      });
      total += sessions;
      if (sessions < SWEEP_BATCH) return total;
    }
  }
}
