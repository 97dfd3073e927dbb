import type { AggregateStores, OAuthClientRecord, SessionRecord } from '../../store/ports/index.js';
import type { Accounts } from '../accounts.js';
import type { Audit } from '../audit.js';
import { AuthError } from '../errors.js';
import type { AccessTokenClaims } from '../jwt/claims.js';
import type { Keyring } from '../keyring.js';
import type { RefreshRotation } from '../refresh-rotation.js';
import type { Revocations } from '../revocations.js';
import type { ClientContext, Sessions } from '../sessions.js';
import { formatScope } from './scopes.js';

/** RFC 7662 2.2: `{active: false}` and nothing else, or what the token says. */
export type Introspection = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: Introspection = Object.freeze({ active: false });

/**
 * Tokens the token endpoint issued, presented back: RFC 7009 revocation, RFC 7662
 * introspection, and the UserInfo endpoint's bearer. A token counts only while its login is
 * live and its user can still use it; anything else is answered as if it did not exist.
 */
export class PresentedTokens {
  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'oauthClients' | 'sessions'>;
      rotation: RefreshRotation;
      sessions: Sessions;
      accounts: Accounts;
      audit: Audit;
      /** The signing keys (in session mode, opened on first use). */
      keyring: () => Promise<Keyring>;
      revocations?: Revocations;
    },
  ) {}

  /**
   * RFC 7009: a refresh token or an access token the caller was issued ends its login (family).
   * Unknown, expired or foreign tokens change nothing and are answered the same (no oracle).
   */
  async revoke(client: OAuthClientRecord, token: string, context: ClientContext): Promise<void> {
    const login = await this.#loginOf(token, client);
    if (!login) return;
    if (await this.deps.sessions.revoke(login.id, 'oauth_revoked')) {
      await this.deps.audit.record('oauth.token_revoked', {
        userId: login.userId,
        sessionId: login.id,
        client: context,
        detail: { clientId: client.id },
      });
    }
  }

  /**
   * RFC 7662. The caller (a confidential client, typically a resource server) learns about an
   * access token only if the token is meant for it (`aud` = its resource) or was issued to it,
   * about a refresh token only if it was issued to it, and about an API key always (a resource
   * server accepting API keys has to ask). Anything else, and anything not live, is inactive.
   */
  async introspect(caller: OAuthClientRecord, token: string): Promise<Introspection> {
    if (token.split('.').length === 3) return this.#introspectAccessToken(caller, token);
    const record = (await this.deps.rotation.find(token))?.record;
    if (!record || record.retiredAt !== null) return INACTIVE;
    const session = await this.#liveLogin(record.sessionId);
    if (!session?.oauth || session.oauth.clientId !== caller.id) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      client_id: session.oauth.clientId,
      scope: formatScope(session.oauth.scopes),
      sub: session.userId,
      auth_time: Math.floor(session.authTime / 1000),
      amr: session.amr,
      acr: session.acr,
      iat: Math.floor(record.createdAt / 1000),
      exp: Math.floor(this.deps.sessions.expiresAt(session) / 1000),
    };
  }

  /**
   * A user's live delegated access token (the UserInfo endpoint's bearer): its claims and
   * login, or undefined when it is not valid, revoked, or its login or account is gone.
   */
  async bearer(token: string): Promise<{ claims: AccessTokenClaims; login: SessionRecord } | undefined> {
    const claims = token.split('.').length === 3 ? await this.#verify(token) : undefined;
    if (!claims || claims.sub === claims.client_id) return undefined;
    const login = await this.#liveLogin(claims.sid);
    return login?.userId === claims.sub && login.oauth?.clientId === claims.client_id
      ? { claims, login }
      : undefined;
  }

  async #introspectAccessToken(caller: OAuthClientRecord, token: string): Promise<Introspection> {
    const claims = await this.#verify(token);
    if (!claims) return INACTIVE;
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (claims.client_id !== caller.id && !audiences.includes(caller.audience)) return INACTIVE;
    if (claims.sub === claims.client_id) {
      if (!(await this.deps.stores.oauthClients.findOAuthClient(claims.sub))) return INACTIVE;
    } else {
      const session = await this.#liveLogin(claims.sid);
      if (!session || session.userId !== claims.sub || session.oauth?.clientId !== claims.client_id)
        return INACTIVE;
    }
    return {
      active: true,
      token_type: 'Bearer',
      client_id: claims.client_id,
      scope: claims.scope ?? '',
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
      ...(claims.auth_time !== undefined && { auth_time: claims.auth_time }),
      ...(claims.amr && { amr: claims.amr }),
      ...(claims.acr && { acr: claims.acr }),
    };
  }

  /** A valid, unrevoked delegated access token's claims, or undefined. */
  async #verify(token: string): Promise<AccessTokenClaims | undefined> {
    let claims: AccessTokenClaims;
    try {
      claims = (await this.deps.keyring()).verifyDelegated(token);
    } catch (error) {
      if (error instanceof AuthError && error.status === 401) return undefined;
      throw error;
    }
    try {
      await this.deps.revocations?.check(claims);
    } catch (error) {
      // token_revoked is an answer; a store that cannot confirm (503) is not.
      if (error instanceof AuthError && error.status === 401) return undefined;
      throw error;
    }
    return claims;
  }

  /** The OAuth login of the caller's refresh or access token, or undefined. */
  async #loginOf(token: string, client: OAuthClientRecord): Promise<SessionRecord | undefined> {
    let sessionId: string | undefined;
    if (token.split('.').length === 3) {
      const claims = await this.#verify(token);
      if (claims && claims.client_id === client.id && claims.sub !== claims.client_id) sessionId = claims.sid;
    } else {
      sessionId = (await this.deps.rotation.find(token))?.record.sessionId;
    }
    const session =
      sessionId === undefined ? undefined : await this.deps.stores.sessions.findSession(sessionId);
    return session?.mode === 'oauth' && session.oauth?.clientId === client.id ? session : undefined;
  }

  /** The login if it is live and its user can still use it. */
  async #liveLogin(sessionId: string): Promise<SessionRecord | undefined> {
    const session = await this.deps.sessions.find(sessionId);
    if (session?.mode !== 'oauth') return undefined;
    const user = await this.deps.accounts.findById(session.userId);
    return user && user.lockedAt === null ? session : undefined;
  }
}
