import type { RefreshTokenRecord, RefreshTokenStore, SessionRecord, UserRecord } from '../store/ports.js';
import type { Accounts } from './accounts.js';
import type { Audit } from './audit.js';
import { AuthError } from './errors.js';
import type { Keyring } from './keyring.js';
import type { Revocations } from './revocations.js';
import type { Runtime } from './runtime.js';
import type { Activity, ClientContext, Sessions } from './sessions.js';
import { issueToken, parseToken, secretMatches } from './tokens.js';
import type { UserEmails } from './user-emails.js';

export interface TokenPair {
  accessToken: string;
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: number;
  /** Opaque `<id>.<secret>`; only its hash is stored. */
  refreshToken: string;
}

const invalidRefreshToken = () => new AuthError('invalid_refresh_token');

/**
 * jwt-mode logins: a family of rotating refresh tokens (one per login, the SessionRecord with
 * mode 'jwt') and short-lived access tokens whose `sid` names the family.
 *
 * Rotation and theft detection: every refresh retires the presented token and issues a new
 * one. A retired token presented again within the grace window is a race between two tabs
 * (they share one cookie) and succeeds; presented after it, somebody kept a copy, so the whole
 * family is revoked and `token_reused` answered. The retire is an atomic compare-and-set in the
 * store, so of two racing requests exactly one rotates normally.
 */
export class TokenLogins {
  constructor(
    private readonly deps: {
      store: RefreshTokenStore;
      sessions: Sessions;
      accounts: Accounts;
      keyring: Keyring;
      audit: Audit;
      runtime: Runtime;
      refreshReuseGraceMs: number;
      mode: 'jwt' | 'hybrid';
      /** Hybrid: new tokens must not fall under a revocation made just before them. */
      revocations?: Revocations;
      /** GET /auth/session's addresses: every pair is signed from a freshly read user row. */
      emails?: UserEmails;
    },
  ) {}

  /** A new login for an authenticated user. */
  async start(user: UserRecord, client: ClientContext): Promise<TokenPair & { session: SessionRecord }> {
    const session = await this.deps.sessions.createFamily(user.id, client, this.deps.mode);
    return { session, ...(await this.#issuePair(session, user)) };
  }

  /** Exchanges a refresh token for a new pair; roles and lock state are re-read from the store. */
  async refresh(
    presented: string,
    client: ClientContext,
    activity?: Activity,
  ): Promise<TokenPair & { session: SessionRecord }> {
    const { store, sessions, audit } = this.deps;
    const parsed = parseToken(presented);
    const token = parsed && (await store.findRefreshToken(parsed.id));
    if (!parsed || !token || !secretMatches(parsed.secret, token.secretHash)) throw invalidRefreshToken();
    const session = await sessions.find(token.sessionId, activity);
    // An OAuth family's refresh token belongs to a third-party app: it never yields a first-party login.
    if (!session || session.mode === 'session' || session.mode === 'oauth') throw invalidRefreshToken();

    const user = await this.deps.accounts.findById(session.userId);
    if (!user || user.lockedAt !== null) {
      await sessions.revoke(session.id);
      throw invalidRefreshToken();
    }

    const next = this.#newRefreshToken(session);
    // The normal case: one transaction retires the presented token (and any sibling left by an
    // earlier two-tab race) and stores the next one.
    if (!(await store.rotateRefreshToken(token.id, next.record))) {
      // Re-read: it may have been live when first read and rotated since by a racing request.
      const retiredAt = (await store.findRefreshToken(token.id))?.retiredAt ?? null;
      if (retiredAt === null || next.record.createdAt - retiredAt > this.deps.refreshReuseGraceMs) {
        await sessions.revoke(session.id);
        await audit.record('token.reuse_detected', {
          userId: session.userId,
          sessionId: session.id,
          client,
          detail: { refreshTokenId: token.id, retiredAt },
        });
        throw new AuthError('token_reused');
      }
      // Within the grace window: the racing tab gets a sibling token; both continue the login.
      await store.createRefreshToken(next.record);
    }
    const pair = this.#pairWith(session, user, next.token);
    await audit.record('token.refreshed', { userId: user.id, sessionId: session.id, client });
    return { session, ...pair };
  }

  /** Retires every refresh token of the family and issues a fresh pair (after a password change). */
  async reissue(session: SessionRecord, user: UserRecord): Promise<TokenPair> {
    const pair = await this.#issuePair(session, user);
    const newId = parseToken(pair.refreshToken)?.id as string;
    await this.deps.store.retireOtherRefreshTokens(session.id, newId, this.deps.runtime.now());
    return pair;
  }

  async #issuePair(session: SessionRecord, user: UserRecord): Promise<TokenPair> {
    const next = this.#newRefreshToken(session);
    await this.deps.store.createRefreshToken(next.record);
    return this.#pairWith(session, user, next.token);
  }

  #newRefreshToken(session: SessionRecord): { token: string; record: RefreshTokenRecord } {
    const { id, token, secretHash } = issueToken(this.deps.runtime);
    return {
      token,
      record: { id, sessionId: session.id, secretHash, createdAt: this.deps.runtime.now(), retiredAt: null },
    };
  }

  #pairWith(session: SessionRecord, user: UserRecord, refreshToken: string): TokenPair {
    this.deps.emails?.remember(user);
    const access = this.deps.keyring.sign({
      sub: user.id,
      sid: session.id,
      roles: user.roles,
      notBefore: this.deps.revocations?.notBeforeFor(user.id),
    });
    return { accessToken: access.token, accessTokenExpiresAt: access.claims.exp * 1000, refreshToken };
  }
}
