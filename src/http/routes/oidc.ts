import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { oauthErrorBody } from '../../core/errors.js';
import type { RawParams } from '../../core/oauth/authorization.js';
import { checkEndSession } from '../../core/oauth/end-session.js';
import type { Tessera } from '../../tessera.js';
import { oauthApi } from '../api/oauth-api.js';
import { clearCredentialCookies, clientContext, optionalAuth } from '../credentials.js';
import { sendErrorPage, sendLogoutConfirmPage, sendSignedOutPage } from './oauth-pages.js';

/**
 * OpenID Connect's own endpoints, inside the OAuth plugin (its form parser and error pages):
 * UserInfo (OIDC Core 5.3; GET and POST, the access token in the Authorization header only,
 * never in a URL) and RP-initiated logout (`end_session_endpoint`, core/oauth/end-session.ts).
 */
export function oidcRoutes(tessera: Tessera, app: FastifyInstance) {
  const { oauth } = tessera;

  const bearerError = (
    reply: FastifyReply,
    status: 401 | 403,
    error: 'invalid_token' | 'insufficient_scope',
    description: string,
  ) =>
    reply
      .code(status)
      .header('www-authenticate', `Bearer error="${error}", error_description="${description}"`)
      .header('cache-control', 'no-store')
      .send(oauthErrorBody(error, description));

  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(request.headers.authorization ?? '');
    if (!match) return bearerError(reply, 401, 'invalid_token', 'Send the access token as a Bearer header.');
    const found = await oauth.tokens.bearer(match[1] as string);
    if (!found)
      return bearerError(reply, 401, 'invalid_token', 'The access token is invalid, expired or revoked.');
    const scopes = (found.claims.scope ?? '').split(' ');
    if (!scopes.includes('openid')) {
      return bearerError(
        reply,
        403,
        'insufficient_scope',
        'The access token was not granted the openid scope.',
      );
    }
    const client = await oauth.clients.find(found.claims.client_id as string);
    const user = await tessera.accounts.findById(found.login.userId);
    if (!client || !user)
      return bearerError(reply, 401, 'invalid_token', 'The access token is invalid, expired or revoked.');
    reply.header('cache-control', 'no-store');
    return oauth.identity.userinfo({
      client,
      user,
      scopes,
      emailVerified: scopes.includes('email') && (await tessera.email.account.isVerified(user)),
    });
  };
  const userinfoRoute = { config: { api: oauthApi.userinfo } };
  app.get('/oauth/userinfo', userinfoRoute, userinfo);
  app.post('/oauth/userinfo', userinfoRoute, userinfo);

  const endSession = async (
    request: FastifyRequest,
    reply: FastifyReply,
    params: RawParams,
    confirmed: boolean,
  ) => {
    const check = await checkEndSession(params, {
      clients: oauth.clients,
      identity: oauth.identity,
      keyring: oauth.keyring,
      issuer: oauth.issuer,
    });
    if (check.kind === 'page') return sendErrorPage(reply, 400, check.message);
    const auth = await optionalAuth(request);
    const done = (signedOut: boolean) =>
      check.redirectTo ? reply.redirect(check.redirectTo, 303) : sendSignedOutPage(reply, signedOut);
    if (!auth) return done(true);
    if (!confirmed && !(await check.hintMatches(auth.sessionId))) {
      return sendLogoutConfirmPage(reply, {
        csrfToken: reply.server.csrfTokenFor(auth.sessionId),
        clientName: check.client?.name,
        params: check.params,
      });
    }
    // The same one-transaction ending as POST /auth/logout: every relying party is told.
    await tessera.sessions.revoke(auth.sessionId);
    await tessera.audit.record('logout', {
      userId: auth.userId,
      sessionId: auth.sessionId,
      client: clientContext(request),
      detail: { via: 'oidc_end_session', ...(check.client && { clientId: check.client.id }) },
    });
    clearCredentialCookies(request, reply);
    reply.server.loginMode.clearOnLogout(reply);
    return done(true);
  };

  // Pages for a browser (the confirmation, "signed out", an error) or a 303 to the relying party.
  const logoutRoute = {
    config: { api: { hidden: 'RP-initiated logout: HTML pages or a redirect back to the relying party' } },
  };
  app.get('/oauth/logout', logoutRoute, (request, reply) =>
    endSession(request, reply, (request.query ?? {}) as RawParams, false),
  );
  // The confirmation form: the anti-CSRF token (csrf_token) is checked by the CSRF plugin.
  app.post('/oauth/logout', logoutRoute, async (request, reply) => {
    const form = (request.body ?? {}) as RawParams;
    if (form.decision !== 'logout') return sendSignedOutPage(reply, false);
    return endSession(request, reply, form, true);
  });
}
