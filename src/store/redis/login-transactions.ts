import type {
  AuthorizationCodeStore,
  LoginEnding,
  LoginEndingStore,
  LoginsEnded,
  RefreshTokenRecord,
  RelyingPartyLoginRecord,
  SessionRecord,
  SessionStore,
} from '../ports/index.js';
import type { RedisCachedSessionStore } from './sessions.js';

/**
 * The cross-aggregate transactions that create or end logins, with the Redis copies kept to the
 * session cache's rules (sessions.ts): the copies go first (rule 2: Redis down means 503 with
 * nothing changed), then the one SQL transaction, then the copies again for a login that raced it.
 */
export class RedisCachedLoginEndingStore implements LoginEndingStore {
  constructor(
    private readonly inner: LoginEndingStore,
    private readonly cache: RedisCachedSessionStore,
    /** The SQL sessions store: the rows whose copies a user's ending removes. */
    private readonly rows: SessionStore,
  ) {}

  async endLogins(ending: LoginEnding): Promise<LoginsEnded> {
    if (!ending.endSessions) return this.inner.endLogins(ending);
    const { target } = ending;
    const forget = async () => {
      if ('sessionId' in target) return this.cache.forgetCopies([target.sessionId]);
      if ('expired' in target) return this.cache.forgetSwept(target.expired.now, target.expired.idleBefore);
      if (!('userId' in target)) return this.cache.forgetEveryCopy();
      const { userId, keepSessionId } = target;
      // Rows the index may not know of (a copy evicted or never made) are forgotten by id too.
      const ids = (await this.rows.listUserSessions(userId)).map((s) => s.id);
      await this.cache.forgetCopies(ids.filter((id) => id !== keepSessionId));
      await this.cache.forgetUserCopies(userId, keepSessionId);
    };
    await forget();
    const ended = await this.inner.endLogins(ending);
    if ('expired' in target) await this.cache.forgetCopies(ended.logins.map((login) => login.id));
    else if (!('sessionId' in target)) await forget();
    return ended;
  }
}

/** Authorization codes, whose redemption creates a login: its copy first, as createSession (rule 3). */
export function withCachedRedemption(
  inner: AuthorizationCodeStore,
  cache: RedisCachedSessionStore,
): AuthorizationCodeStore {
  return {
    createAuthorizationCode: (code) => inner.createAuthorizationCode(code),
    findAuthorizationCode: (id) => inner.findAuthorizationCode(id),
    useAuthorizationCode: (id, usedAt) => inner.useAuthorizationCode(id, usedAt),
    deleteExpiredAuthorizationCodes: (before) => inner.deleteExpiredAuthorizationCodes(before),
    /** The login's copy is forgotten again when the code was already used (or the write failed). */
    async redeemAuthorizationCode(
      id: string,
      usedAt: number,
      login: SessionRecord,
      refreshToken: RefreshTokenRecord,
      relyingPartyLogin?: RelyingPartyLoginRecord,
    ): Promise<boolean> {
      await cache.putCopy(login);
      let redeemed = false;
      try {
        redeemed = await inner.redeemAuthorizationCode(id, usedAt, login, refreshToken, relyingPartyLogin);
        return redeemed;
      } finally {
        if (!redeemed) await cache.forgetCopies([login.id]).catch(() => undefined);
      }
    },
  };
}
