import type { SessionRecord, UserRecord } from '../store/ports/index.js';
import type { Accounts } from './accounts.js';
import type { Audit } from './audit.js';
import { AuthError } from './errors.js';
import type { Keyring } from './keyring.js';
import type { RefreshRotation } from './refresh-rotation.js';
import type { Revocations } from './revocations.js';
import type { Activity, ClientContext, Sessions } from './sessions.js';
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
 * mode 'jwt' or 'hybrid') and short-lived access tokens whose `sid` names the family. Rotation,
 * the grace window and theft detection are RefreshRotation's (core/refresh-rotation.ts).
 */
export class TokenLogins {
  constructor(
    private readonly deps: {
      rotation: RefreshRotation;
      sessions: Sessions;
      accounts: Accounts;
      keyring: Keyring;
      audit: Audit;
      mode: 'jwt' | 'hybrid';
      /** Hybrid: new tokens must not fall under a revocation made just before them. */
      revocations?: Revocations;
      /** GET /auth/session's addresses: every pair is signed from a freshly read user row. */
      emails?: UserEmails;
    },
  ) {}

  /** A new login for an authenticated user. */
  async start(
    user: UserRecord,
    client: ClientContext,
    amr?: readonly string[],
  ): Promise<TokenPair & { session: SessionRecord }> {
    const session = await this.deps.sessions.createFamily(user.id, client, this.deps.mode, amr);
    const refreshToken = await this.deps.rotation.issue(session.id);
    return { session, ...this.#pairWith(session, user, refreshToken) };
  }

  /** Exchanges a refresh token for a new pair; roles and lock state are re-read from the store. */
  async refresh(
    presented: string,
    client: ClientContext,
    activity?: Activity,
  ): Promise<TokenPair & { session: SessionRecord }> {
    const { rotation, sessions, audit } = this.deps;
    const token = await rotation.find(presented);
    if (!token) throw invalidRefreshToken();
    const session = await sessions.find(token.record.sessionId, activity);
    // An OAuth family's refresh token belongs to a third-party app: it never yields a first-party login.
    if (!session || session.mode === 'session' || session.mode === 'oauth') throw invalidRefreshToken();

    const user = await this.deps.accounts.findById(session.userId);
    if (!user || user.lockedAt !== null) {
      await sessions.revoke(session.id, 'locked');
      throw invalidRefreshToken();
    }

    const exchanged = await rotation.exchange(token);
    if (exchanged.outcome === 'reused') {
      await audit.record('token.reuse_detected', {
        userId: session.userId,
        sessionId: session.id,
        client,
        detail: { refreshTokenId: token.record.id, retiredAt: exchanged.retiredAt },
      });
      throw new AuthError('token_reused');
    }
    const pair = this.#pairWith(session, user, exchanged.refreshToken);
    await audit.record('token.refreshed', { userId: user.id, sessionId: session.id, client });
    return { session, ...pair };
  }

  /**
   * A fresh pair for a login that goes on under new credentials (after a password change).
   * Every other refresh token of the family is retired with no grace: a copy of one presented
   * later is reuse and ends the login.
   */
  async reissue(session: SessionRecord, user: UserRecord): Promise<TokenPair> {
    return this.#pairWith(session, user, await this.deps.rotation.reissue(session.id));
  }

  #pairWith(session: SessionRecord, user: UserRecord, refreshToken: string): TokenPair {
    this.deps.emails?.remember(user);
    const access = this.deps.keyring.sign({
      sub: user.id,
      sid: session.id,
      roles: user.roles,
      authContext: session,
      notBefore: this.deps.revocations?.notBeforeFor(user.id),
    });
    return { accessToken: access.token, accessTokenExpiresAt: access.claims.exp * 1000, refreshToken };
  }
}
