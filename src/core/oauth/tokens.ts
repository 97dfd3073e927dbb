import { createHash, timingSafeEqual } from 'node:crypto';
import type { AggregateStores, OAuthClientRecord, SessionRecord } from '../../store/ports/index.js';
import type { Accounts } from '../accounts.js';
import type { Audit } from '../audit.js';
import type { AccessTokenClaims } from '../jwt/claims.js';
import type { Keyring } from '../keyring.js';
import type { RefreshRotation } from '../refresh-rotation.js';
import type { Revocations } from '../revocations.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext, Sessions } from '../sessions.js';
import { parseToken, secretMatches } from '../tokens.js';
import { OAuthError } from './errors.js';
import type { OidcGrants } from './oidc-grants.js';
import { type Introspection, PresentedTokens } from './presented-tokens.js';
import { formatScope, isSubset, parseScope } from './scopes.js';

/** The successful token response (RFC 6749 5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** scope=openid: OIDC Core 3.1.3.3. */
  id_token?: string;
}

/** RFC 7636 4.1: 43-128 characters of the unreserved set. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

/**
 * The token endpoint's grants; revocation (RFC 7009), introspection (RFC 7662) and the
 * UserInfo bearer are PresentedTokens' (presented-tokens.ts), reached through this class.
 *
 * A user's delegation is a login (SessionRecord, mode `oauth`) whose refresh tokens rotate
 * exactly as jwt mode's do, by the same routine (RefreshRotation): every refresh retires the
 * presented token (an atomic compare-and-set), a retry within the grace window gets the same
 * successor back, and any other reuse ends the whole family. Because it is a login, lock, logout-all, admin revocation and expiry
 * end it too, and in hybrid mode its access tokens are revoked at once (`sid` = the family).
 * Access tokens follow RFC 9068: `typ: at+jwt`, `client_id`, `scope`, `aud` = the client's
 * resource, `sub` = the user (client_credentials: the client, whose id is then also the `sid`).
 */
export class OAuthTokens {
  readonly #presented: PresentedTokens;

  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'authorizationCodes' | 'oauthGrants' | 'oauthClients' | 'sessions'>;
      /** Rotation, grace and theft detection, shared with first-party logins. */
      rotation: RefreshRotation;
      /** OpenID Connect: the sign-in behind a grant, and ID tokens. */
      oidc: OidcGrants;
      sessions: Sessions;
      accounts: Accounts;
      audit: Audit;
      runtime: Runtime;
      /** The signing keys (in session mode, opened on first use). */
      keyring: () => Promise<Keyring>;
      scopes: Readonly<Record<string, string>>;
      revocations?: Revocations;
    },
  ) {
    this.#presented = new PresentedTokens(deps);
  }

  /** authorization_code (RFC 6749 4.1.3 + RFC 7636 4.6). */
  async exchangeCode(
    client: OAuthClientRecord,
    params: { code?: string; redirectUri?: string; codeVerifier?: string },
    context: ClientContext,
  ): Promise<TokenResponse> {
    const { stores, runtime } = this.deps;
    if (!client.grantTypes.includes('authorization_code')) throw unauthorizedClient();
    const { code, redirectUri, codeVerifier } = params;
    if (code === undefined || redirectUri === undefined || codeVerifier === undefined) {
      throw new OAuthError('invalid_request', 'code, redirect_uri and code_verifier are required.');
    }
    const parsed = parseToken(code);
    const record = parsed && (await stores.authorizationCodes.findAuthorizationCode(parsed.id));
    if (
      !parsed ||
      !record ||
      !secretMatches(parsed.secret, record.secretHash) ||
      record.clientId !== client.id
    ) {
      throw invalidGrant('The authorization code is invalid or has expired.');
    }
    const now = runtime.now();
    if (record.usedAt !== null) return this.#codeReused(record.sessionId, record.userId, client, context);
    if (now >= record.expiresAt) throw invalidGrant('The authorization code is invalid or has expired.');
    if (redirectUri !== record.redirectUri) {
      throw invalidGrant('The redirect_uri differs from the one the code was issued for.');
    }
    if (!pkceMatches(codeVerifier, record.codeChallenge)) {
      throw invalidGrant('The code_verifier does not match the code_challenge.');
    }
    const user = await this.deps.accounts.findById(record.userId);
    const grant = user && (await stores.oauthGrants.findOAuthGrant(user.id, client.id));
    if (!user || user.lockedAt !== null || !grant || !isSubset(record.scopes, grant.scopes)) {
      // Burnt all the same: a code is tried once.
      if (!(await stores.authorizationCodes.useAuthorizationCode(record.id, now))) {
        return this.#codeReused(record.sessionId, record.userId, client, context);
      }
      throw invalidGrant('The user has withdrawn this authorization, or cannot use it.');
    }
    // Marking the code used and storing the login it produces (with its refresh token) is one
    // transaction: a replay that finds the code used always finds the login to revoke. Done as
    // two steps, a replay landing between them revoked nothing and the login lived on.
    const session = this.deps.sessions.oauthFamilyRecord(
      record.sessionId,
      user.id,
      context,
      {
        clientId: client.id,
        scopes: record.scopes,
        audience: record.audience,
      },
      record,
    );
    const refresh = this.deps.rotation.firstOfFamily(session.id);
    const rpLogin = await this.deps.oidc.beforeRedeem(record, session, now);
    if (
      !(await stores.authorizationCodes.redeemAuthorizationCode(
        record.id,
        now,
        session,
        refresh.record,
        rpLogin,
      ))
    ) {
      return this.#codeReused(record.sessionId, record.userId, client, context);
    }
    await this.deps.oidc.afterRedeem(record, session.id);
    await stores.oauthGrants.touchOAuthGrant(user.id, client.id, now);
    await this.deps.audit.record('oauth.code_exchanged', {
      userId: user.id,
      sessionId: session.id,
      client: context,
      detail: { clientId: client.id, scopes: record.scopes },
    });
    const response = await this.#issueWithRefreshToken(session, record.scopes, refresh.token);
    const idToken = await this.deps.oidc.forCode(client, record, response.access_token);
    return idToken === undefined ? response : { ...response, id_token: idToken };
  }

  /** refresh_token (RFC 6749 6): rotation, reuse detection, bound to the client, never wider. */
  async refresh(
    client: OAuthClientRecord,
    params: { refreshToken?: string; scope?: string },
    context: ClientContext,
  ): Promise<TokenResponse> {
    const { stores, sessions, rotation, runtime } = this.deps;
    if (!client.grantTypes.includes('authorization_code')) throw unauthorizedClient();
    if (params.refreshToken === undefined)
      throw new OAuthError('invalid_request', 'refresh_token is required.');
    const token = await rotation.find(params.refreshToken);
    if (!token) throw invalidGrant('The refresh token is invalid or has expired.');
    const session = await sessions.find(token.record.sessionId);
    if (session?.mode !== 'oauth' || !session.oauth)
      throw invalidGrant('The refresh token is invalid or has expired.');
    if (session.oauth.clientId !== client.id)
      throw invalidGrant('This refresh token was issued to another client.');
    const scopes =
      params.scope === undefined ? session.oauth.scopes : parseScope(params.scope, this.deps.scopes);
    if (!isSubset(scopes, session.oauth.scopes)) {
      throw new OAuthError('invalid_scope', 'A refresh can narrow the scope, never widen it.');
    }

    const user = await this.deps.accounts.findById(session.userId);
    if (!user || user.lockedAt !== null) {
      await sessions.revoke(session.id, 'locked');
      throw invalidGrant('The refresh token is invalid or has expired.');
    }
    const signIn = await this.deps.oidc.beforeRefresh(session);
    const now = runtime.now();
    const exchanged = await rotation.exchange(token);
    if (exchanged.outcome === 'reused') {
      await this.deps.audit.record('oauth.token_reused', {
        userId: session.userId,
        sessionId: session.id,
        client: context,
        detail: { clientId: client.id, refreshTokenId: token.record.id, retiredAt: exchanged.retiredAt },
      });
      throw invalidGrant(
        'This refresh token was already used, so it may have been stolen: its tokens are revoked.',
      );
    }
    const oauth = session.oauth;
    const response = {
      ...(await this.#issue({
        sub: session.userId,
        sid: session.id,
        authContext: session,
        clientId: oauth.clientId,
        audience: oauth.audience,
        scopes,
      })),
      refresh_token: exchanged.refreshToken,
    };
    await stores.oauthGrants.touchOAuthGrant(user.id, client.id, now);
    const idToken = await this.deps.oidc.forRefresh(client, user.id, signIn, scopes, response.access_token);
    return idToken === undefined ? response : { ...response, id_token: idToken };
  }

  /** client_credentials (RFC 6749 4.4): a confidential client acting for itself; no refresh token. */
  async clientCredentials(client: OAuthClientRecord, params: { scope?: string }): Promise<TokenResponse> {
    if (client.type !== 'confidential' || !client.grantTypes.includes('client_credentials')) {
      throw unauthorizedClient();
    }
    const scopes = params.scope === undefined ? client.scopes : parseScope(params.scope, this.deps.scopes);
    if (!isSubset(scopes, client.scopes)) {
      throw new OAuthError('invalid_scope', 'The client asked for a scope it is not allowed.');
    }
    return this.#issue({
      sub: client.id,
      sid: client.id,
      clientId: client.id,
      audience: client.audience,
      scopes,
    });
  }

  /** RFC 7009 (presented-tokens.ts). */
  revoke(client: OAuthClientRecord, token: string, context: ClientContext): Promise<void> {
    return this.#presented.revoke(client, token, context);
  }

  /** RFC 7662 (presented-tokens.ts). */
  introspect(caller: OAuthClientRecord, token: string): Promise<Introspection> {
    return this.#presented.introspect(caller, token);
  }

  /** The UserInfo endpoint's bearer (presented-tokens.ts). */
  bearer(token: string): Promise<{ claims: AccessTokenClaims; login: SessionRecord } | undefined> {
    return this.#presented.bearer(token);
  }

  /** A reused code: whatever was issued from it is revoked (OAuth 2.1 4.1.3), and the request refused. */
  async #codeReused(
    sessionId: string,
    userId: string,
    client: OAuthClientRecord,
    context: ClientContext,
  ): Promise<never> {
    await this.deps.sessions.revoke(sessionId, 'code_reuse');
    await this.deps.audit.record('oauth.code_reused', {
      userId,
      sessionId,
      client: context,
      detail: { clientId: client.id },
    });
    throw invalidGrant('The authorization code was already used: the tokens issued from it are revoked.');
  }

  /** An access token narrowed to `scopes`, with the login's (stored) refresh token. */
  async #issueWithRefreshToken(
    session: SessionRecord,
    scopes: string[],
    token: string,
  ): Promise<TokenResponse> {
    const oauth = session.oauth as NonNullable<SessionRecord['oauth']>;
    const response = await this.#issue({
      sub: session.userId,
      sid: session.id,
      authContext: session,
      clientId: oauth.clientId,
      audience: oauth.audience,
      scopes,
    });
    return { ...response, refresh_token: token };
  }

  async #issue(subject: {
    sub: string;
    sid: string;
    authContext?: { authTime: number; amr: readonly string[]; acr: string };
    clientId: string;
    audience: string;
    scopes: string[];
  }): Promise<TokenResponse> {
    const scope = formatScope(subject.scopes);
    const access = (await this.deps.keyring()).sign({
      sub: subject.sub,
      sid: subject.sid,
      ...(subject.authContext && { authContext: subject.authContext }),
      // hybrid: never under a revocation made just before (as first-party tokens).
      notBefore: this.deps.revocations?.notBeforeFor(subject.sub),
      delegation: { clientId: subject.clientId, scope, audience: subject.audience },
    });
    const expiresIn = Math.max(0, access.claims.exp - Math.floor(this.deps.runtime.now() / 1000));
    return { access_token: access.token, token_type: 'Bearer', expires_in: expiresIn, scope };
  }
}

const unauthorizedClient = () =>
  new OAuthError('unauthorized_client', 'This client is not allowed to use this grant type.');

/** RFC 7636 4.6: BASE64URL(SHA-256(ASCII(verifier))) == challenge, compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
