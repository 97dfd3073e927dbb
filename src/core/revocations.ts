import type { RevocationBus } from '../store/bus.js';
import type { RevocationRecord, RevocationStore } from '../store/ports/index.js';
import { AuthError } from './errors.js';
import type { AccessTokenClaims } from './jwt/claims.js';
import type { Runtime } from './runtime.js';
import { silentTelemetry, type Telemetry } from './telemetry.js';

/** Hybrid nodes poll the log this often as well, so even a silently lost message is bounded. */
export const REVOCATION_POLL_INTERVAL_MS = 2_000;

/**
 * Hybrid mode's revocation state: what every node keeps in memory so that a locally verified
 * access token can be refused without a store lookup.
 *
 * - revoked logins (`sid`), a per-user "not before" and a global "not before" (the epoch);
 * - every entry expires when no token it could affect can still be valid (`horizonMs`: the
 *   access-token lifetime plus clock skew), so memory is bounded by revocations per lifetime;
 * - every revocation is appended to the log (the store's sequence numbers order them), applied
 *   here at once, and published on the bus; other nodes apply what they receive and, on a gap
 *   in sequence numbers or a bus disconnect, catch up from the log before trusting their
 *   state again. While behind, a request waits for the catch-up (one store query, shared by
 *   all waiting requests); if the store cannot answer, the request fails with 503: fail safe,
 *   never fail open.
 */
export class Revocations {
  readonly #sessions = new Map<string, number>();
  readonly #users = new Map<string, { at: number; expiresAt: number }>();
  #all = { at: 0, expiresAt: 0 };
  #lastSeq = 0;
  #behind = true;
  /** The first catch-up (at start) reads old records: their age is not lag. */
  #caughtUpOnce = false;
  #catchUp: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: RevocationStore,
    private readonly bus: RevocationBus,
    private readonly runtime: Runtime,
    /** How long an entry matters: access-token lifetime + allowed clock skew. */
    private readonly horizonMs: number,
    /** Lag, gaps, bus disconnects and catch-ups, for the operator's metrics. */
    private readonly telemetry: Telemetry = silentTelemetry,
  ) {}

  /** Subscribes first, then reads the log, so nothing published in between is missed. */
  async start(): Promise<void> {
    this.#unsubscribe = await this.bus.subscribe(
      (record) => this.#receive(record),
      () => {
        this.telemetry.revocationBehind('bus_disconnect');
        this.#markBehind();
      },
    );
    await this.catchUp();
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  revokeSession(sessionId: string): Promise<void> {
    return this.#revoke('session', sessionId);
  }

  /** Every token of the user issued before now (lock, role change, logout-all, password change). */
  revokeUser(userId: string): Promise<void> {
    return this.#revoke('user', userId);
  }

  /** Every token of everyone issued before now: the day a key or the database leaks. */
  revokeAll(): Promise<void> {
    return this.#revoke('all', '*');
  }

  /**
   * Throws 401 `token_revoked` for a revoked token; waits for a catch-up while behind (only
   * then is the answer a promise: the per-request path stays synchronous).
   */
  check(claims: AccessTokenClaims): void | Promise<void> {
    if (this.#behind) return this.catchUp().then(() => this.#refuseRevoked(claims));
    this.#refuseRevoked(claims);
  }

  #refuseRevoked(claims: AccessTokenClaims): void {
    if (this.isRevoked(claims)) {
      throw new AuthError('token_revoked');
    }
  }

  /**
   * `iat` has whole seconds, so a token whose iat second is the revocation's own second may
   * have been issued just before it: it counts as revoked (fail safe). Tokens issued after a
   * revocation get a later iat from the signer (notBeforeFor).
   */
  isRevoked(claims: AccessTokenClaims): boolean {
    const issuedAt = claims.iat * 1000;
    if (issuedAt <= this.#all.at) return true;
    const user = this.#users.get(claims.sub);
    if (user && issuedAt <= user.at) return true;
    return this.#sessions.has(claims.sid);
  }

  /** New tokens for this user must have an iat strictly after this instant (0: no constraint). */
  notBeforeFor(userId: string): number {
    return Math.max(this.#all.at, this.#users.get(userId)?.at ?? 0);
  }

  /** Reads every record after the last one applied; single-flight. */
  catchUp(): Promise<void> {
    this.#catchUp ??= (async () => {
      try {
        const records = await this.store.listRevocationsSince(this.#lastSeq, this.runtime.now());
        const now = this.runtime.now();
        for (const record of records) {
          this.#apply(record);
          if (this.#caughtUpOnce) this.telemetry.revocationApplied(now - record.at, 'log');
          this.#lastSeq = Math.max(this.#lastSeq, record.seq);
        }
        this.#behind = false;
        if (this.#caughtUpOnce) this.telemetry.revocationCatchUp(records.length);
        this.#caughtUpOnce = true;
      } catch (error) {
        throw new AuthError('store_unavailable', 'Revocation state cannot be confirmed; try again shortly.', {
          cause: error,
        });
      } finally {
        this.#catchUp = undefined;
      }
    })();
    return this.#catchUp;
  }

  /** Drops entries no live token can be affected by any more; returns what is left. */
  prune(): { sessions: number; users: number } {
    const now = this.runtime.now();
    for (const [sid, expiresAt] of this.#sessions) if (expiresAt <= now) this.#sessions.delete(sid);
    for (const [userId, entry] of this.#users) if (entry.expiresAt <= now) this.#users.delete(userId);
    if (this.#all.expiresAt <= now) this.#all = { at: 0, expiresAt: 0 };
    return { sessions: this.#sessions.size, users: this.#users.size };
  }

  /**
   * The record a revocation made now appends to the log. For callers that append it in their
   * own transaction (Sessions: the logins end in the same one), then call `applied`.
   */
  plan(kind: RevocationRecord['kind'], subject: string): Omit<RevocationRecord, 'seq'> {
    const at = this.#effectiveAt(kind, subject, this.runtime.now());
    return { kind, subject, at, expiresAt: at + this.horizonMs };
  }

  /** A record now in the log: applied on this node at once and published to the others. */
  async applied(record: RevocationRecord): Promise<void> {
    this.#apply(record);
    this.#advance(record);
    // A lost publish is caught by the other nodes' polling; it must not fail the revocation itself.
    await this.bus.publish(record).catch(() => undefined);
  }

  async #revoke(kind: RevocationRecord['kind'], subject: string): Promise<void> {
    await this.applied(await this.store.appendRevocation(this.plan(kind, subject)));
  }

  /**
   * Tokens issued after an earlier revocation of the same user (or of everyone) got an iat of
   * the next whole second. A second revocation within that second must still cover them, so it
   * takes effect at that next second at the earliest (at most a second later than now).
   */
  #effectiveAt(kind: RevocationRecord['kind'], subject: string, now: number): number {
    if (kind === 'session') return now;
    const previous =
      kind === 'user'
        ? Math.max(this.#users.get(subject)?.at ?? 0, this.#all.at)
        : Math.max(this.#all.at, ...[...this.#users.values()].map((entry) => entry.at));
    return previous > 0 ? Math.max(now, (Math.floor(previous / 1000) + 1) * 1000) : now;
  }

  #receive(record: RevocationRecord): void {
    // A record already applied (this node's own, echoed by the bus) is not lag.
    if (record.seq > this.#lastSeq) this.telemetry.revocationApplied(this.runtime.now() - record.at, 'bus');
    this.#apply(record);
    this.#advance(record);
  }

  /** Moves the contiguous prefix on, or notices a gap: something in between was not seen. */
  #advance(record: RevocationRecord): void {
    if (record.seq === this.#lastSeq + 1) this.#lastSeq = record.seq;
    else if (record.seq > this.#lastSeq) {
      this.telemetry.revocationBehind('gap');
      this.#markBehind();
    }
  }

  #markBehind(): void {
    this.#behind = true;
    void this.catchUp().catch(() => undefined);
  }

  /** Idempotent and order-independent: applying a record twice, or late, changes nothing. */
  #apply(record: RevocationRecord): void {
    if (record.kind === 'session') {
      this.#sessions.set(record.subject, Math.max(this.#sessions.get(record.subject) ?? 0, record.expiresAt));
    } else if (record.kind === 'user') {
      const current = this.#users.get(record.subject);
      if (!current || current.at < record.at)
        this.#users.set(record.subject, { at: record.at, expiresAt: record.expiresAt });
    } else if (this.#all.at < record.at) {
      this.#all = { at: record.at, expiresAt: record.expiresAt };
    }
  }
}
