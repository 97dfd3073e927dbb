import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { Tessera } from '../../tessera.js';
import {
  clearSessionCookie,
  clientContext,
  requireSession,
  resolveSession,
  setSessionCookie,
} from '../credentials.js';
import { parseInput, text } from '../validation.js';
import { sessionView, userView } from '../views.js';

// Raw inputs are capped before any work (NFKC, hashing) is done on them; the password policy
// then gives the precise rule. Four bytes per character covers any UTF-8 the policy accepts.
const email = text(320);
const password = text(MAX_PASSWORD_LENGTH * 4);

const credentialsBody = z.strictObject({ email, password });
const loginBody = z.strictObject({
  email,
  password,
  /** cookie (browsers, default): token in an HttpOnly cookie. bearer: token in the body. */
  transport: z.enum(['cookie', 'bearer']).default('cookie'),
});
const changePasswordBody = z.strictObject({ currentPassword: password, newPassword: password });

export function authRoutes(tessera: Tessera) {
  const authenticated = { preHandler: requireSession(tessera) };

  /** Sends a fresh session token the way the client asked for it. */
  const deliverToken = (reply: FastifyReply, transport: 'cookie' | 'bearer', token: string) => {
    if (transport === 'cookie') {
      setSessionCookie(reply, token);
      return {};
    }
    return { token };
  };

  return async (app: FastifyInstance) => {
    app.post('/auth/register', async (request, reply) => {
      const body = parseInput(credentialsBody, request.body);
      const user = await tessera.accounts.register(body);
      return reply.code(201).send({ user: { id: user.id, email: user.email } });
    });

    app.post('/auth/login', async (request, reply) => {
      const body = parseInput(loginBody, request.body);
      const user = await tessera.accounts.authenticate(body);
      // Session fixation: a session the client already holds is never carried over. If it was
      // a live one, it ends now; a fresh session is always created.
      const previous = await resolveSession(tessera, request);
      if (previous) await tessera.sessions.revoke(previous.session.id);
      const { token, session } = await tessera.sessions.create(user.id, clientContext(request));
      return {
        user: userView(user),
        session: sessionView(tessera, session),
        ...deliverToken(reply, body.transport, token),
      };
    });

    app.get('/auth/session', authenticated, async (request) => ({
      user: userView(request.auth.user),
      session: sessionView(tessera, request.auth.session),
    }));

    // Idempotent: logging out without a live session still clears the cookie and succeeds.
    app.post('/auth/logout', async (request, reply) => {
      const auth = await resolveSession(tessera, request);
      if (auth) await tessera.sessions.revoke(auth.session.id);
      clearSessionCookie(request, reply);
      return reply.code(204).send();
    });

    app.post('/auth/logout-all', authenticated, async (request, reply) => {
      const revoked = await tessera.sessions.revokeAllOfUser(request.auth.user.id);
      clearSessionCookie(request, reply);
      return { revoked };
    });

    app.post('/auth/password', authenticated, async (request, reply) => {
      const body = parseInput(changePasswordBody, request.body);
      const { user, session, transport } = request.auth;
      await tessera.accounts.changePassword(user.id, body.currentPassword, body.newPassword);
      // Whoever else holds a session (maybe the reason for the change) is out; this device
      // stays in, under a new token, so a copy of the old one is worthless too.
      const revokedOtherSessions = await tessera.sessions.revokeAllOfUser(user.id, session.id);
      const token = await tessera.sessions.rotate(session);
      return { revokedOtherSessions, ...deliverToken(reply, transport, token) };
    });
  };
}
