import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { UserRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { callerAnswer, credentialsAnswer, loginAnswer, userAnswer } from '../api/schemas.js';
import {
  authenticate,
  clearCredentialCookies,
  clientContext,
  optionalAuth,
  requireAuth,
} from '../credentials.js';
import { requireFreshProof } from '../guards.js';
import type { RoutePolicy } from '../route-policy.js';
import { parseInput, text } from '../validation.js';
import { callerView } from '../views.js';
import { answerFirstFactor } from './login-answer.js';

// Raw inputs are capped before any work (NFKC, hashing) is done on them; the password policy
// then gives the precise rule. Four bytes per character covers any UTF-8 the policy accepts.
const email = text(320);
const password = text(MAX_PASSWORD_LENGTH * 4);

const credentialsBody = z.strictObject({ email, password });
const loginBody = z.strictObject({
  email,
  password,
  /** cookie (browsers, default): tokens in HttpOnly cookies. bearer: tokens in the body. */
  transport: z.enum(['cookie', 'bearer']).default('cookie'),
});
const changePasswordBody = z.strictObject({ currentPassword: password, newPassword: password });

// Each route's OpenAPI description (api/route-api.ts): the bodies above, and the answers' shapes.
const registerApi: RouteApi = {
  summary: 'Create an account (a verification mail goes out through the outbox)',
  body: credentialsBody,
  responses: { 201: z.strictObject({ user: userAnswer.omit({ roles: true }) }) },
};
const loginApi: RouteApi = {
  summary: 'Log in with email and password: credentials in cookies, or in the body (transport bearer)',
  body: loginBody,
  responses: { 200: loginAnswer },
};
const sessionApi: RouteApi = { summary: 'Who is calling, and their login', responses: { 200: callerAnswer } };
const logoutApi: RouteApi = { summary: 'End this login', responses: { 204: null } };
const logoutAllApi: RouteApi = {
  summary: "End every login and API key of the caller's account",
  responses: { 200: z.strictObject({ revoked: z.number().int(), revokedApiKeys: z.number().int() }) },
};
const passwordApi: RouteApi = {
  summary: 'Change the password: every other login ends, this one gets new credentials',
  body: changePasswordBody,
  responses: {
    200: z.strictObject({ revokedOtherSessions: z.number().int(), ...credentialsAnswer.shape }),
  },
};

// Each route's web defences (route-policy.ts): every one counts attempts against its limits, and
// the ways in take no anti-CSRF token (there is no login yet to bind one to).
// Each also carries the route's OpenAPI description (above).
const registerPolicy: RoutePolicy = { rateLimitAction: 'register', csrfExempt: true, api: registerApi };
const loginPolicy: RoutePolicy = { rateLimitAction: 'login', csrfExempt: true, api: loginApi };
const passwordPolicy: RoutePolicy = { rateLimitAction: 'password', api: passwordApi };

/** register, login, session, logout, logout-all, password: the same routes in every mode. */
export function authRoutes(tessera: Tessera) {
  const authenticated = { preHandler: requireAuth() };
  const sessionRoute = { ...authenticated, config: { tokenAlone: true, api: sessionApi } };
  const logoutAllRoute = { ...authenticated, config: { api: logoutAllApi } };

  return async (app: FastifyInstance) => {
    app.post('/auth/register', { config: registerPolicy }, async (request, reply) => {
      const body = parseInput(credentialsBody, request.body);
      const user = await tessera.accounts.register(body);
      await tessera.audit.record('user.registered', { userId: user.id, client: clientContext(request) });
      // Proving the address: the link goes out through the outbox; the answer never waits for it.
      await tessera.email.account.sendVerification(user, { client: clientContext(request) });
      return reply.code(201).send({ user: { id: user.id, email: user.email } });
    });

    app.post('/auth/login', { config: loginPolicy }, async (request, reply) => {
      const body = parseInput(loginBody, request.body);
      const client = clientContext(request);
      let user: UserRecord;
      try {
        user = await tessera.accounts.authenticate(body);
      } catch (error) {
        if (error instanceof AuthError) {
          await tessera.audit.record('login.failed', {
            client,
            detail: tessera.audit.typedEmailDetail(body.email),
          });
        }
        throw error;
      }
      // TESSERA_REQUIRE_VERIFIED_EMAIL: 403 email_unverified, only after the password matched.
      await tessera.email.account.assertMayLogIn(user);
      // Session fixation: a login the client already holds is never carried over. If it was a
      // live one it ends now; a fresh one is always created.
      const previous = await optionalAuth(request);
      if (previous) await tessera.sessions.revoke(previous.sessionId, 'replaced');
      // A user with a second factor (or a role that needs one) gets a challenge, not a login yet.
      return answerFirstFactor(tessera, request, reply, user, body.transport);
    });

    // The one route that may answer from a verified access token alone (jwt: no store read;
    // hybrid: the in-memory revocation check). Every other route checks the login is live.
    app.get('/auth/session', sessionRoute, async (request) => {
      const { account } = tessera.email;
      if (request.auth.user) {
        const view = callerView(tessera, request.auth);
        return {
          ...view,
          user: { ...view.user, emailVerified: await account.isVerified(request.auth.user) },
        };
      }
      const email = tessera.userEmails.emailOf(request.auth.userId);
      const view = callerView(tessera, request.auth, typeof email === 'string' ? email : await email);
      const emailVerified = await account.isVerifiedById(request.auth.userId);
      return { ...view, user: { ...view.user, emailVerified } };
    });

    // Cookie clients: idempotent, a dead or missing login still clears the cookies and succeeds
    // (the browser's cookies are what is left to end). A bearer client has nothing to clear: a
    // refused token (malformed, expired, already ended) gets the 401 any route gives it, so a
    // client that sent the wrong thing learns that nothing was logged out.
    app.post('/auth/logout', { config: { api: logoutApi } }, async (request, reply) => {
      const auth =
        request.headers.authorization === undefined
          ? await optionalAuth(request)
          : await authenticate(request);
      if (auth) {
        await tessera.sessions.revoke(auth.sessionId, 'logout');
        await tessera.audit.record('logout', {
          userId: auth.userId,
          sessionId: auth.sessionId,
          client: clientContext(request),
        });
      }
      clearCredentialCookies(request, reply);
      app.loginMode.clearOnLogout(reply);
      return reply.code(204).send();
    });

    app.post('/auth/logout-all', logoutAllRoute, async (request, reply) => {
      const { userId, sessionId } = request.auth;
      // Every login of the user and every API key (a key belongs to the user, not to a login).
      const ended = await tessera.sessions.endUserLogins(userId, { cause: 'logout_all' });
      await tessera.audit.record('logout.all', {
        userId,
        sessionId,
        client: clientContext(request),
        detail: { revoked: ended.sessions, revokedApiKeys: ended.apiKeys },
      });
      clearCredentialCookies(request, reply);
      app.loginMode.clearOnLogout(reply);
      return { revoked: ended.sessions, revokedApiKeys: ended.apiKeys };
    });

    // A fresh proof (TESSERA_STEP_UP_MAX_AGE): a stolen login alone cannot change the password.
    const fresh = { preHandler: [requireAuth(), requireFreshProof(tessera)] };
    app.post('/auth/password', { ...fresh, config: passwordPolicy }, async (request, reply) => {
      const body = parseInput(changePasswordBody, request.body);
      const { userId, sessionId, transport } = request.auth;
      const passwordHash = await tessera.accounts.newPasswordHash(
        userId,
        body.currentPassword,
        body.newPassword,
      );
      // Whoever else holds a login or an API key (maybe the reason for the change) is out, in
      // the same transaction as the new password; this device stays in, under new credentials.
      const ended = await tessera.sessions.endUserLogins(userId, {
        except: sessionId,
        cause: 'password_changed',
        account: { passwordHash, updatedAt: tessera.runtime.now() },
      });
      const revokedOtherSessions = ended.sessions;
      const [session, user] = await Promise.all([
        tessera.sessions.find(sessionId),
        tessera.accounts.findById(userId),
      ]);
      await tessera.audit.record('password.changed', {
        userId,
        sessionId,
        client: clientContext(request),
        detail: { revokedOtherSessions, revokedApiKeys: ended.apiKeys },
      });
      if (!session || !user) return { revokedOtherSessions };
      return { revokedOtherSessions, ...(await app.loginMode.reissue(reply, transport, session, user)) };
    });
  };
}
