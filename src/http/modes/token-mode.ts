import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { AccessTokenClaims } from '../../core/jwt/claims.js';
import type { Keyring } from '../../core/keyring.js';
import type { Revocations } from '../../core/revocations.js';
import type { Activity } from '../../core/sessions.js';
import type { TokenLogins, TokenPair } from '../../core/token-logins.js';
import type { MaybePromise } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { ACCESS_TOKEN_COOKIE } from '../../wire/credentials.js';
import { activityOf, clearRefreshCookie, clientContext, setTokenCookies } from '../credentials.js';
import { refreshTokenLogin, unverifiedJwtSid } from '../plugins/presented-login.js';
import { tokenRoutes } from '../routes/tokens.js';
import { tokenPairView } from '../views.js';
import type { Authenticated, LoginMode, Transport } from './login-mode.js';

/** What the token modes work with; createTessera opens them for jwt and hybrid, never for session. */
export interface TokenModeParts {
  name: 'jwt' | 'hybrid';
  keyring: Keyring;
  tokens: TokenLogins;
  /** hybrid: the in-memory revocation check after the signature (always there); jwt mode has none. */
  revocations: Revocations | undefined;
}

/**
 * jwt and hybrid modes: the client holds a short-lived signed access token (`__Host-tessera_at`
 * or a Bearer header) and a rotating refresh token (`__Secure-tessera_rt`, /auth/refresh only).
 * The two differ only by hybrid's revocation check.
 */
export function tokenMode(
  tessera: Tessera,
  { name, keyring, tokens, revocations }: TokenModeParts,
): LoginMode {
  const deliver = (reply: FastifyReply, transport: Transport, pair: TokenPair) => {
    if (transport === 'bearer') return tokenPairView(tessera, pair);
    setTokenCookies(tessera, reply, pair);
    return {};
  };

  /**
   * A valid access token is not enough for anything but `GET /auth/session`. Tessera holds the
   * store, so every other route (everything that changes state or mints a credential) checks
   * here that the token's login is still live and its account unlocked: a logged-out, revoked
   * or locked login can do nothing, whatever its token's remaining lifetime. The stored roles
   * replace the token's. A store that cannot answer is a 503, never a pass.
   */
  const requireLiveLogin = async (auth: Authenticated, activity: Activity): Promise<Authenticated> => {
    const found = await tessera.sessions.findLive(auth.sessionId, activity);
    const live =
      found !== undefined &&
      found.session.userId === auth.userId &&
      found.session.mode === name &&
      found.user.lockedAt === null;
    if (!live) {
      throw new AuthError('token_revoked', 'This login has ended: refresh the token or log in again.');
    }
    // The stored proof too: a step-up made since this token was signed counts at once.
    const { session, user } = found;
    return {
      ...auth,
      roles: user.roles,
      authTime: session.authTime,
      amr: session.amr,
      acr: session.acr,
      session,
      user,
    };
  };

  /** After the signature: hybrid's revocation check, then the token alone or the live login. */
  const admit = (
    request: FastifyRequest,
    transport: Transport,
    claims: AccessTokenClaims,
  ): MaybePromise<Authenticated> => {
    // hybrid: the in-memory revocation check, no store lookup (unless this node is catching up:
    // then the promise checks once caught up).
    const behind = revocations?.check(claims);
    return behind
      ? behind.then(() => caller(request, transport, claims))
      : caller(request, transport, claims);
  };

  /** The caller a verified, unrevoked token names: the token alone, or its live login. */
  const caller = (
    request: FastifyRequest,
    transport: Transport,
    claims: AccessTokenClaims,
  ): MaybePromise<Authenticated> => {
    const auth: Authenticated = {
      userId: claims.sub,
      roles: claims.roles,
      sessionId: claims.sid,
      transport,
      expiresAt: claims.exp * 1000,
      // Tokens signed before migration 0011 carry no context: a password login, at iat.
      authTime: (claims.auth_time ?? claims.iat) * 1000,
      amr: claims.amr ?? ['pwd'],
      acr: claims.acr ?? 'aal1',
    };
    if (request.routeOptions.config?.tokenAlone === true) return auth;
    return requireLiveLogin(auth, activityOf(request));
  };

  return {
    name,
    credentialCookie: ACCESS_TOKEN_COOKIE,
    refusedCookieIsDead: false,

    authenticate(request, presented) {
      // Synchronous on the usual path (a promise only for a key reload or a catch-up), so a
      // route that needs the token alone answers without a promise: see LoginMode.
      const verified = keyring.verifyFresh(presented.token);
      return verified instanceof Promise
        ? verified.then((claims) => admit(request, presented.transport, claims))
        : admit(request, presented.transport, verified);
    },

    loginIdOf: unverifiedJwtSid,
    refreshTokenLogin: (token) => refreshTokenLogin(tessera, token),

    async openLogin(request, reply, user, transport, amr) {
      const { session, ...pair } = await tokens.start(user, clientContext(request), amr);
      return { session, credentials: deliver(reply, transport, pair) };
    },

    async reissue(reply, transport, session, user) {
      return deliver(reply, transport, await tokens.reissue(session, user));
    },

    // The browser never sends the refresh cookie outside /auth/refresh, so it is cleared blind.
    clearOnLogout: clearRefreshCookie,

    // POST /auth/refresh and the public keys at /.well-known/jwks.json.
    routes: tokenRoutes(tessera, tokens, keyring),

    signingKeys: () => keyring,
  };
}
