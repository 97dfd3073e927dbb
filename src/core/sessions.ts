import type { SessionRecord, SessionStore, SessionWithUser } from '../store/ports/index.js';
import type { Revocations } from './revocations.js';
import type { Runtime } from './runtime.js';
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

export interface ClientContext {
  ip: string;
  userAgent: string;
}

/** Server-side sessions: create, validate with idle/absolute expiry, rotate, revoke. */
export class Sessions {
  constructor(
    private readonly store: SessionStore,
    private readonly runtime: Runtime,
    readonly policy: SessionPolicy,
    /** Hybrid mode: ending a login must also reach the in-memory state of every node. */
    private readonly revocations?: Revocations,
  ) {}

  /** A session-mode login: the returned token is the credential, shown to the client once. */
  async create(userId: string, client: ClientContext): Promise<{ token: string; session: SessionRecord }> {
    const { id, token, secretHash } = issueToken(this.runtime);
    return { token, session: await this.#insert(id, userId, 'session', secretHash, client) };
  }

  /**
   * A jwt-mode login: the record is the refresh-token family (its id is the tokens' `sid`).
   * It has no secret of its own, so no session token can ever open it.
   */
  createFamily(userId: string, client: ClientContext, mode: 'jwt' | 'hybrid'): Promise<SessionRecord> {
    return this.#insert(newRandomId(this.runtime), userId, mode, '', client);
  }

  /**
   * A login a user delegated to a third-party application (OAuth): a refresh-token family like
   * jwt mode's, bound to the client, its granted scopes and resource. `id` is chosen when the
   * authorization code is issued, so a reused code can end the login it produced.
   */
  createOAuthFamily(
    id: string,
    userId: string,
    client: ClientContext,
    oauth: NonNullable<SessionRecord['oauth']>,
  ): Promise<SessionRecord> {
    return this.#insert(id, userId, 'oauth', '', client, oauth);
  }

  async #insert(
    id: string,
    userId: string,
    mode: SessionRecord['mode'],
    secretHash: string,
    client: ClientContext,
    oauth?: SessionRecord['oauth'],
  ): Promise<SessionRecord> {
    const now = this.runtime.now();
    const session: SessionRecord = {
      id,
      userId,
      mode,
      secretHash,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.absoluteTimeoutMs,
      ip: client.ip,
      userAgent: client.userAgent,
      ...(oauth && { oauth }),
    };
    await this.store.createSession(session);
    return session;
  }

  /**
   * The live session a presented token belongs to, with its owner (one store read), or
   * undefined. Never throws on bad input. Whether the owner may still log in is the caller's call.
   */
  async validate(presented: string): Promise<SessionWithUser | undefined> {
    const parsed = parseToken(presented);
    if (!parsed) return undefined;
    const found = await this.store.findSessionWithUser(parsed.id);
    if (found?.session.mode !== 'session' || !secretMatches(parsed.secret, found.session.secretHash)) {
      return undefined;
    }
    const session = await this.renew(found.session);
    return session && { session, user: found.user };
  }

  /**
   * Enforces idle and absolute expiry (an expired session is deleted) and records activity
   * (sliding renewal); the live session, or undefined.
   */
  async renew(session: SessionRecord): Promise<SessionRecord | undefined> {
    const now = this.runtime.now();
    if (now >= this.idleExpiresAt(session) || now >= session.expiresAt) {
      await this.store.deleteSession(session.id);
      return undefined;
    }
    if (now - session.lastSeenAt >= RENEWAL_INTERVAL_MS) {
      await this.store.touchSession(session.id, now);
      session.lastSeenAt = now;
    }
    return session;
  }

  /** The live session with this id, whatever its mode, or undefined. */
  async find(id: string): Promise<SessionRecord | undefined> {
    const session = await this.store.findSession(id);
    return session && this.renew(session);
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
    await this.store.setSessionSecret(session.id, secretHash);
    return token;
  }

  async revoke(sessionId: string): Promise<boolean> {
    const deleted = await this.store.deleteSession(sessionId);
    if (deleted) await this.revocations?.revokeSession(sessionId);
    return deleted;
  }

  /**
   * Ends every login of the user but `exceptSessionId`. In hybrid mode every access token of
   * the user issued until now is revoked, the kept login's too: its caller reissues it.
   */
  async revokeAllOfUser(userId: string, exceptSessionId?: string): Promise<number> {
    const deleted = await this.store.deleteUserSessions(userId, exceptSessionId);
    await this.revocations?.revokeUser(userId);
    return deleted;
  }

  /** Ends every login of everyone (and, in hybrid mode, every access token issued until now). */
  async revokeEveryone(): Promise<number> {
    const deleted = await this.store.deleteAllSessions();
    await this.revocations?.revokeAll();
    return deleted;
  }

  /** The user's live sessions, newest first. */
  async listOfUser(userId: string): Promise<SessionRecord[]> {
    const now = this.runtime.now();
    return (await this.store.listUserSessions(userId)).filter((s) => now < this.expiresAt(s));
  }

  /** Every live session, newest first; for operators. */
  async listAll(): Promise<SessionRecord[]> {
    const now = this.runtime.now();
    return (await this.store.listSessions()).filter((s) => now < this.expiresAt(s));
  }

  /** Deletes every expired session; returns how many. */
  sweep(): Promise<number> {
    const now = this.runtime.now();
    return this.store.deleteExpiredSessions(now, now - this.policy.idleTimeoutMs);
  }
}
