import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, oauthErrorBody } from '../../core/errors.js';
import { API_KEY_PREFIX } from '../../core/oauth/api-keys.js';
import type { AuthorizationRequest, RawParams } from '../../core/oauth/authorization.js';
import type { PresentedClient } from '../../core/oauth/clients.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { signInOf } from '../../core/oauth/oidc-identity.js';
import { decideSignIn } from '../../core/oauth/oidc-sign-in.js';
import type { TokenResponse } from '../../core/oauth/tokens.js';
import { isStoreUnavailable } from '../../store/errors.js';
import type { Tessera } from '../../tessera.js';
import { oauthApi } from '../api/oauth-api.js';
import { clientContext, optionalAuth } from '../credentials.js';
import { authorizationServerMetadata } from './oauth-metadata.js';
import { LOGIN_SCRIPT, PAGES_CSS, sendConsentPage, sendErrorPage, sendLoginPage } from './oauth-pages.js';
import { oidcRoutes } from './oidc.js';

/**
 * The OAuth 2.1 authorization server: /oauth/authorize (sign in, consent), /oauth/token,
 * /oauth/revoke (RFC 7009), /oauth/introspect (RFC 7662) and the metadata (RFC 8414).
 *
 * These endpoints speak OAuth, not Tessera's own dialect: form-encoded requests (a parser
 * registered for this plugin only; the rest of Tessera still takes JSON alone) and errors as
 * `{error, error_description}` with RFC 6749's codes, which every OAuth client library reads.
 * The authorization endpoint answers with pages and redirects instead.
 */
const FORM = 'application/x-www-form-urlencoded';
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
// Their errors are OAuth JSON ({error, error_description}, as api/oauth-api.ts declares), not pages.
const JSON_ROUTES = new Set(['/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/userinfo']);

type Form = Record<string, string | string[]>;

export function oauthRoutes(tessera: Tessera) {
  const { oauth } = tessera;
  const metadata = authorizationServerMetadata(tessera);

  /** Answers a checked authorization request: sign in, consent, a code, or an error. */
  const authorize = async (request: FastifyRequest, reply: FastifyReply, checked: AuthorizationRequest) => {
    const client = clientContext(request);
    const auth = await optionalAuth(request);
    const session = auth && (auth.session ?? (await tessera.sessions.find(auth.sessionId)));
    const decision = await decideSignIn(checked, auth && session && { userId: auth.userId, session }, {
      identity: oauth.identity,
      keyring: oauth.keyring,
      issuer: oauth.issuer,
      now: tessera.runtime.now(),
    });
    if (decision.kind === 'error') {
      return reply.redirect(
        oauth.authorization.errorRedirect(checked, decision.error, decision.description),
        302,
      );
    }
    if (decision.kind === 'sign-in' || !auth) {
      return sendLoginPage(reply, checked.client.name, {
        fresh: decision.kind === 'sign-in' && decision.fresh,
        loginHint: checked.oidc?.loginHint,
      });
    }
    const signIn = decision.signIn;
    if (!(await oauth.authorization.needsConsent(auth.userId, checked))) {
      return reply.redirect(
        await oauth.authorization.approve(auth.userId, checked, {
          client,
          consented: false,
          signIn,
        }),
        302,
      );
    }
    if (checked.prompt.none) {
      return reply.redirect(
        await oauth.authorization.deny(auth.userId, checked, { client, error: 'consent_required' }),
        302,
      );
    }
    const user = auth.user ?? (await tessera.accounts.findById(auth.userId));
    return sendConsentPage(reply, checked, {
      csrfToken: reply.server.csrfTokenFor(auth.sessionId),
      consentTicket: await oauth.authorization.issueConsentTicket(auth.userId, auth.sessionId, checked),
      scopes: oauth.scopes,
      userLabel: user?.email ?? auth.userId,
    });
  };

  // OpenAPI (api/oauth-api.ts): the JSON endpoints described; the pages and their files left out.
  const metadataRoute = { config: { api: oauthApi.metadata } };
  const page = { config: { api: { hidden: 'an OAuth page, its script or stylesheet, or a redirect' } } };

  return async (app: FastifyInstance) => {
    app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
      done(null, parseForm(body as string));
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (!JSON_ROUTES.has(request.routeOptions.url ?? '')) {
        // The pages answer in HTML; anything unexpected goes to Tessera's own handler.
        if (error instanceof AuthError) return sendErrorPage(reply, error.status, error.message);
        throw error;
      }
      return sendOAuthError(request, reply, error);
    });

    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      app.get(path, metadataRoute, async (_request, reply) => {
        reply.header('cache-control', 'public, max-age=300');
        return metadata;
      });
    }

    // The public keys (jwks_uri) are the mode's route in every mode (modes/).

    app.get('/oauth/pages.css', page, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(PAGES_CSS),
    );
    app.get('/oauth/login.js', page, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').send(LOGIN_SCRIPT),
    );

    app.get('/oauth/authorize', page, async (request, reply) => {
      const check = await oauth.authorization.check((request.query ?? {}) as RawParams);
      if (check.kind === 'page') return sendErrorPage(reply, 400, check.message);
      if (check.kind === 'redirect') return reply.redirect(check.to, 302);
      return authorize(request, reply, check.request);
    });

    // The consent form. The anti-CSRF token (its csrf_token field) is checked by the CSRF plugin;
    // the consent ticket binds the answer to the very page shown (single use, this login, this request).
    app.post('/oauth/authorize', page, async (request, reply) => {
      const form = formBody(request);
      const check = await oauth.authorization.check(form);
      if (check.kind === 'page') return sendErrorPage(reply, 400, check.message);
      if (check.kind === 'redirect') return reply.redirect(check.to, 303);
      const auth = await optionalAuth(request);
      if (!auth)
        return sendErrorPage(reply, 401, 'Your login has ended: go back to the application and start again.');
      if (
        !(await oauth.authorization.redeemConsentTicket(
          form.consent_ticket,
          auth.userId,
          auth.sessionId,
          check.request,
        ))
      ) {
        return sendErrorPage(
          reply,
          400,
          'This consent page was already answered, has expired, or does not match what the application asked: go back to the application and start again.',
        );
      }
      const client = clientContext(request);
      if (form.decision === 'approve') {
        const session = auth.session ?? (await tessera.sessions.find(auth.sessionId));
        if (!session)
          return sendErrorPage(
            reply,
            401,
            'Your login has ended: go back to the application and start again.',
          );
        const signIn = signInOf(session);
        return reply.redirect(
          await oauth.authorization.approve(auth.userId, check.request, {
            client,
            consented: true,
            signIn,
          }),
          303,
        );
      }
      if (form.decision === 'deny') {
        return reply.redirect(await oauth.authorization.deny(auth.userId, check.request, { client }), 303);
      }
      return sendErrorPage(reply, 400, 'Choose Allow or Deny.');
    });

    oidcRoutes(tessera, app);

    app.post('/oauth/token', { config: { api: oauthApi.token } }, async (request, reply) => {
      const param = params(request);
      const grantType = param('grant_type');
      if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required.');
      // password and implicit are gone from OAuth 2.1; anything else was never here.
      if (!GRANT_TYPES.has(grantType)) {
        throw new OAuthError(
          'unsupported_grant_type',
          `The grant type ${JSON.stringify(grantType.slice(0, 64))} is not supported.`,
        );
      }
      const client = await oauth.clients.authenticate(presentedClient(request, param));
      const context = clientContext(request);
      let response: TokenResponse;
      if (grantType === 'authorization_code') {
        response = await oauth.tokens.exchangeCode(
          client,
          { code: param('code'), redirectUri: param('redirect_uri'), codeVerifier: param('code_verifier') },
          context,
        );
      } else if (grantType === 'refresh_token') {
        response = await oauth.tokens.refresh(
          client,
          { refreshToken: param('refresh_token'), scope: param('scope') },
          context,
        );
      } else {
        response = await oauth.tokens.clientCredentials(client, { scope: param('scope') });
      }
      reply.header('pragma', 'no-cache');
      return response;
    });

    app.post('/oauth/revoke', { config: { api: oauthApi.revoke } }, async (request, reply) => {
      const param = params(request);
      const client = await oauth.clients.authenticate(presentedClient(request, param));
      const token = param('token');
      if (token === undefined) throw new OAuthError('invalid_request', 'token is required.');
      await oauth.tokens.revoke(client, token, clientContext(request));
      return reply.code(200).send();
    });

    app.post('/oauth/introspect', { config: { api: oauthApi.introspect } }, async (request) => {
      const param = params(request);
      const caller = await oauth.clients.authenticate(presentedClient(request, param));
      if (caller.type !== 'confidential') {
        throw new OAuthError(
          'invalid_client',
          'Introspection needs a confidential client (a resource server).',
        );
      }
      const token = param('token');
      if (token === undefined) throw new OAuthError('invalid_request', 'token is required.');
      return token.startsWith(API_KEY_PREFIX)
        ? oauth.apiKeys.introspect(token)
        : oauth.tokens.introspect(caller, token);
    });
  };
}

/** The parsed form; every parameter as sent, a repeated one as an array. */
function parseForm(body: string): Form {
  const form: Form = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = form[name];
    form[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return form;
}

function formBody(request: FastifyRequest): Form {
  if (
    !new RegExp(`^${FORM}\\b`, 'i').test(request.headers['content-type'] ?? '') &&
    request.body !== undefined
  ) {
    throw new OAuthError('invalid_request', `Send the parameters as ${FORM}.`);
  }
  return (request.body ?? Object.create(null)) as Form;
}

/** A getter for single-valued parameters (RFC 6749 3.2: a repeated one is invalid_request). */
function params(request: FastifyRequest): (name: string) => string | undefined {
  const form = formBody(request);
  return (name) => {
    const value = Object.hasOwn(form, name) ? form[name] : undefined;
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `The parameter ${name} is repeated.`);
    return value === '' ? undefined : value;
  };
}

/**
 * client_secret_basic (RFC 6749 2.3.1: id and secret form-encoded, then Basic) or
 * client_secret_post / none (in the body). Using both is invalid_request.
 */
function presentedClient(
  request: FastifyRequest,
  param: (name: string) => string | undefined,
): PresentedClient {
  const header = request.headers.authorization;
  if (header === undefined) {
    return { clientId: param('client_id'), clientSecret: param('client_secret'), method: 'post' };
  }
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!match)
    throw new OAuthError('invalid_client', 'Authenticate the client with HTTP Basic or in the body.');
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'The Basic credentials are malformed.');
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (param('client_secret') !== undefined) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
  }
  const bodyId = param('client_id');
  if (bodyId !== undefined && bodyId !== clientId) {
    throw new OAuthError('invalid_request', 'client_id differs from the authenticated client.');
  }
  return { clientId, clientSecret, method: 'basic' };
}

function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError('invalid_client', 'The Basic credentials are malformed.');
  }
}

/** RFC 6749 5.2 errors; anything Tessera-specific on these routes is told in the same shape. */
function sendOAuthError(request: FastifyRequest, reply: FastifyReply, error: FastifyError) {
  reply.header('pragma', 'no-cache');
  if (error instanceof OAuthError) {
    if (error.error === 'invalid_client')
      reply.header('www-authenticate', 'Basic realm="tessera", charset="UTF-8"');
    return reply.code(error.status).send(oauthErrorBody(error.error, error.message));
  }
  if (isStoreUnavailable(error) || (error instanceof AuthError && error.status === 503)) {
    if (!(error instanceof AuthError)) request.log.warn({ err: error }, 'store unavailable');
    reply.header('retry-after', '1');
    return reply
      .code(503)
      .send(
        oauthErrorBody('temporarily_unavailable', error instanceof AuthError ? error.message : undefined),
      );
  }
  if (error instanceof AuthError) {
    return reply.code(error.status).send(oauthErrorBody('invalid_request', error.message));
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply
      .code(status)
      .send(
        oauthErrorBody(
          'invalid_request',
          status === 415 ? `Send the parameters as ${FORM}.` : 'The request is malformed.',
        ),
      );
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).send(oauthErrorBody('server_error'));
}
