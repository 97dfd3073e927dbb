import type { FastifyInstance, FastifyReply } from 'fastify';
import { AuthError, unauthenticated } from '../../core/errors.js';
import type { PublicJwk } from '../../core/jwt/jwk.js';
import { parseToken } from '../../core/tokens.js';
import type { MaybePromise, SessionWithUser } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { SESSION_COOKIE } from '../../wire/credentials.js';
import { activityOf, clientContext, setSessionCookie } from '../credentials.js';
import { sendErrorPage } from '../routes/oauth-pages.js';
import { jwksApi } from '../routes/tokens.js';
import type { Authenticated, LoginMode, Transport } from './login-mode.js';

/**
 * session mode: the client holds an opaque `<id>.<secret>` session token (`__Host-tessera_session`
 * or a Bearer header), checked against the store on every request.
 */
export function sessionMode(tessera: Tessera): LoginMode {
  const deliver = (reply: FastifyReply, transport: Transport, token: string) => {
    if (transport === 'bearer') return { token };
    setSessionCookie(reply, token);
    return {};
  };

  /** The caller of a validated session; a locked owner ends it (a promise then) and is refused. */
  const admit = (found: SessionWithUser | undefined, transport: Transport): MaybePromise<Authenticated> => {
    if (!found) throw unauthenticated();
    const { session, user } = found;
    if (user.lockedAt !== null) {
      return tessera.sessions.revoke(session.id, 'locked').then(() => {
        throw unauthenticated();
      });
    }
    return {
      userId: user.id,
      roles: user.roles,
      sessionId: session.id,
      transport,
      expiresAt: tessera.sessions.expiresAt(session),
      authTime: session.authTime,
      amr: session.amr,
      acr: session.acr,
      session,
      user,
    };
  };

  return {
    name: 'session',
    credentialCookie: SESSION_COOKIE,
    refusedCookieIsDead: true,

    authenticate(request, presented) {
      // Synchronous when validate is (memory, SQLite, no renewal due): see LoginMode.
      const found = tessera.sessions.validate(presented.token, activityOf(request));
      return found instanceof Promise
        ? found.then((row) => admit(row, presented.transport))
        : admit(found, presented.transport);
    },

    loginIdOf: (token) => parseToken(token)?.id,
    refreshTokenLogin: () => Promise.resolve(undefined),

    async openLogin(request, reply, user, transport, amr) {
      const { session, token } = await tessera.sessions.create(user.id, clientContext(request), amr);
      return { session, credentials: deliver(reply, transport, token) };
    },

    async reissue(reply, transport, session) {
      return deliver(reply, transport, await tessera.sessions.rotate(session));
    },

    // The session cookie went out with the request, so clearCredentialCookies has cleared it.
    clearOnLogout: () => undefined,

    // No refresh route. OAuth still signs access tokens, with a keyring opened on first use
    // (tessera.oauth.keyring), so session mode publishes its public keys here. Its failures
    // (503 oauth_unavailable without a shareable key-encryption key) answer as the OAuth pages do.
    async routes(app: FastifyInstance) {
      app.get('/.well-known/jwks.json', { config: { api: jwksApi } }, async (_request, reply) => {
        let keys: { keys: PublicJwk[] };
        try {
          keys = (await tessera.oauth.keyring()).jwks();
        } catch (error) {
          if (error instanceof AuthError) return sendErrorPage(reply, error.status, error.message);
          throw error;
        }
        reply.header('cache-control', 'public, max-age=300');
        return keys;
      });
    },

    signingKeys() {
      throw new AuthError('not_in_token_mode');
    },
  };
}
