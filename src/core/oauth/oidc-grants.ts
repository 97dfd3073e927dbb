import type {
  AggregateStores,
  AuthorizationCodeRecord,
  OAuthClientRecord,
  RelyingPartyLoginRecord,
  SessionRecord,
} from '../../store/ports/index.js';
import { acrOf } from '../auth-context.js';
import type { Sessions } from '../sessions.js';
import { OAuthError } from './errors.js';
import { isOpenId, type OidcIdentity, type SignIn } from './oidc-identity.js';

const signInEnded = () => new OAuthError('invalid_grant', 'The sign-in behind this grant has ended.');

/**
 * The token endpoint's OpenID Connect part. A delegation made by signing in (scope=openid)
 * lives no longer than the browser login it came from (Back-Channel Logout 1.0 2.7; there is
 * no offline_access): the code exchange records the relying party's login with the
 * redemption, refuses a code whose sign-in has ended, and a refresh after that end revokes
 * the delegation. ID tokens name the same sign-in every time (sub, sid, auth_time).
 */
export class OidcGrants {
  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'sessions' | 'relyingPartyLogins' | 'authorizationCodes'>;
      sessions: Sessions;
      identity: OidcIdentity;
    },
  ) {}

  /** Before redeeming an OIDC code: the relying-party login to record with it, or a refusal. */
  async beforeRedeem(
    code: AuthorizationCodeRecord,
    delegation: SessionRecord,
    now: number,
  ): Promise<RelyingPartyLoginRecord | undefined> {
    const oidc = code.oidc;
    if (!oidc) return undefined;
    // Background: the relying party's server exchanging a code is not the user's activity.
    if (!(await this.deps.sessions.find(oidc.authSessionId, { background: true }))) {
      await this.deps.stores.authorizationCodes.useAuthorizationCode(code.id, now);
      throw signInEnded();
    }
    return {
      delegationId: delegation.id,
      sessionId: oidc.authSessionId,
      clientId: code.clientId,
      userId: code.userId,
      authTime: code.authTime,
      createdAt: now,
    };
  }

  /**
   * After the redemption committed: the login may have ended between the check and the
   * commit, and its ending then listed no relying party (the row was not there yet), so the
   * delegation ends here instead.
   */
  async afterRedeem(code: AuthorizationCodeRecord, delegationId: string): Promise<void> {
    if (code.oidc && !(await this.deps.stores.sessions.findSession(code.oidc.authSessionId))) {
      await this.deps.sessions.revoke(delegationId);
      throw signInEnded();
    }
  }

  /** The ID token of a code exchange (with the code's nonce), or undefined for plain OAuth. */
  async forCode(
    client: OAuthClientRecord,
    code: AuthorizationCodeRecord,
    accessToken: string,
  ): Promise<string | undefined> {
    const oidc = code.oidc;
    if (!oidc) return undefined;
    // The code's proof, as signInOf reads a login's: amr only when there is one, acr from it.
    const signIn: SignIn = {
      sessionId: oidc.authSessionId,
      authTime: code.authTime,
      ...(code.amr.length > 0 && { amr: [...code.amr] }),
      acr: acrOf(code.amr),
    };
    return this.deps.identity.idToken({
      client,
      userId: code.userId,
      signIn,
      nonce: oidc.nonce,
      accessToken,
    });
  }

  /** Before a refresh of an OIDC delegation: its sign-in, or (ended) the delegation revoked. */
  async beforeRefresh(delegation: SessionRecord): Promise<SignIn | undefined> {
    if (!delegation.oauth || !isOpenId(delegation.oauth.scopes)) return undefined;
    const login = await this.deps.stores.relyingPartyLogins.findRelyingPartyLogin(delegation.id);
    if (!login) return undefined;
    if (!(await this.deps.stores.sessions.findSession(login.sessionId))) {
      await this.deps.sessions.revoke(delegation.id);
      throw signInEnded();
    }
    return { sessionId: login.sessionId, authTime: login.authTime };
  }

  /** OIDC Core 12.2: a fresh ID token about the same sign-in, without a nonce. */
  forRefresh(
    client: OAuthClientRecord,
    userId: string,
    signIn: SignIn | undefined,
    scopes: readonly string[],
    accessToken: string,
  ): Promise<string | undefined> {
    if (!signIn || !isOpenId(scopes)) return Promise.resolve(undefined);
    return this.deps.identity.idToken({ client, userId, signIn, nonce: null, accessToken });
  }
}
