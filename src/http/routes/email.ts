import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { UserRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { credentialsAnswer, emptyAnswer, sessionAnswer, verifiedUserAnswer } from '../api/schemas.js';
import { clientContext, optionalAuth, requireAuth, type Transport } from '../credentials.js';
import { requireFreshProof } from '../guards.js';
import { mailRateLimits } from '../plugins/mail-rate-limit.js';
import { parseInput, text } from '../validation.js';
import { userView } from '../views.js';
import { answerFirstFactor } from './login-answer.js';

// A mailed token is 66 characters; anything much longer is not one (and is refused unread).
const token = text(200);
const email = text(320);
const password = text(MAX_PASSWORD_LENGTH * 4);

const tokenBody = z.strictObject({ token });
const emailBody = z.strictObject({ email });
const resendBody = z.strictObject({ email: email.optional() }).optional();
const resetBody = z.strictObject({
  token,
  newPassword: password,
  /** Open a login on this device after the reset (all others have ended). Off by default. */
  signIn: z.boolean().default(false),
  transport: z.enum(['cookie', 'bearer']).default('cookie'),
});
const changeBody = z.strictObject({ newEmail: email, password });

const accepted = { 202: emptyAnswer };
const verifiedUser = z.strictObject({ user: verifiedUserAnswer });
const revoked = { revokedSessions: z.number().int() };
const api = {
  verify: {
    summary: "Prove the address with the mailed link's token",
    body: tokenBody,
    responses: { 200: verifiedUser },
  },
  resend: {
    summary: 'Send the verification link again (logged in: to the caller; else to the address given)',
    body: resendBody,
    responses: accepted,
  },
  forgot: {
    summary: 'Mail a password-reset link (the same answer whether the account exists)',
    body: emailBody,
    responses: accepted,
  },
  reset: {
    summary: "Set a new password with the mailed link's token: every login ends; signIn opens a new one",
    body: resetBody,
    responses: {
      200: z.union([
        z.strictObject(revoked),
        z.strictObject({ ...revoked, session: sessionAnswer, ...credentialsAnswer.shape }),
      ]),
    },
  },
  change: {
    summary: 'Ask to change the address: a confirmation link goes to the new one',
    body: changeBody,
    responses: accepted,
  },
  confirm: {
    summary: 'Confirm the new address with its token',
    body: tokenBody,
    responses: { 200: verifiedUser },
  },
  undo: {
    summary: 'Undo an address change from the link sent to the old address: every login ends',
    body: tokenBody,
    responses: { 200: z.strictObject({ user: verifiedUserAnswer, ...revoked }) },
  },
  notMe: {
    summary: '"This wasn\'t me" from a new-device alert: the account is locked and every login ends',
    body: tokenBody,
    responses: { 200: z.strictObject({ locked: z.literal(true), ...revoked }) },
  },
} satisfies Record<string, RouteApi>;

/**
 * Account recovery and verification by email (HTTP contract in docs/DESIGN and README). The
 * routes that send mail answer 202 before anything is sent (the outbox delivers); those that
 * could tell whether an address has an account answer the same bytes either way, and do the
 * lookup after answering, so the time does not tell either.
 */
export function emailRoutes(tessera: Tessera) {
  const flows = tessera.email.account;
  return async (app: FastifyInstance) => {
    const limits = mailRateLimits(tessera);
    const changeRoute = {
      preHandler: [requireAuth(), requireFreshProof(tessera)],
      config: { api: api.change },
    };

    /** Work the answer must not wait for (nor reveal by its duration); failures are logged. */
    const afterAnswer = (request: FastifyRequest, work: () => Promise<unknown>) => {
      setImmediate(() => {
        work().catch((error: unknown) => request.log.error({ err: error }, 'email flow failed'));
      });
    };

    app.post('/auth/email/verify', { config: { api: api.verify } }, async (request, reply) => {
      await limits.usingToken(request, reply);
      const body = parseInput(tokenBody, request.body);
      const user = await flows.verify(body.token, clientContext(request));
      return { user: { ...userView(user), emailVerified: true } };
    });

    app.post('/auth/email/verify/resend', { config: { api: api.resend } }, async (request, reply) => {
      const body = parseInput(resendBody, request.body ?? undefined);
      const client = clientContext(request);
      const auth = await optionalAuth(request);
      if (auth) {
        const user = await tessera.accounts.findById(auth.userId);
        if (user && (await limits.sending(request, reply, user.email))) {
          await flows.sendVerification(user, { client });
        }
      } else if (body?.email !== undefined) {
        const address = body.email;
        if (await limits.sending(request, reply, address)) {
          afterAnswer(request, () => flows.resendVerification(address, client));
        }
      }
      return reply.code(202).send({});
    });

    app.post('/auth/password/forgot', { config: { api: api.forgot } }, async (request, reply) => {
      const body = parseInput(emailBody, request.body);
      const client = clientContext(request);
      if (await limits.sending(request, reply, body.email)) {
        afterAnswer(request, () => flows.requestPasswordReset(body.email, client));
      }
      return reply.code(202).send({});
    });

    app.post('/auth/password/reset', { config: { api: api.reset } }, async (request, reply) => {
      await limits.usingToken(request, reply);
      const body = parseInput(resetBody, request.body);
      const client = clientContext(request);
      const { user, revokedSessions } = await flows.resetPassword(body.token, body.newPassword, client);
      // An account an admin locked stays locked through a reset: no login is opened for it.
      if (!body.signIn || user.lockedAt !== null) return { revokedSessions };
      return { revokedSessions, ...(await openLogin(tessera, request, reply, user, body.transport)) };
    });

    app.post('/auth/email/change', changeRoute, async (request, reply) => {
      const body = parseInput(changeBody, request.body);
      if (await limits.sending(request, reply, body.newEmail)) {
        await flows.requestEmailChange(
          request.auth.userId,
          body.newEmail,
          body.password,
          clientContext(request),
        );
      }
      return reply.code(202).send({});
    });

    app.post('/auth/email/change/confirm', { config: { api: api.confirm } }, async (request, reply) => {
      await limits.usingToken(request, reply);
      const body = parseInput(tokenBody, request.body);
      const user = await flows.confirmEmailChange(body.token, clientContext(request));
      return { user: { ...userView(user), emailVerified: true } };
    });

    app.post('/auth/email/change/undo', { config: { api: api.undo } }, async (request, reply) => {
      await limits.usingToken(request, reply);
      const body = parseInput(tokenBody, request.body);
      const { user, revokedSessions } = await flows.undoEmailChange(body.token, clientContext(request));
      return { user: { ...userView(user), emailVerified: true }, revokedSessions };
    });

    app.post('/auth/not-me', { config: { api: api.notMe } }, async (request, reply) => {
      await limits.usingToken(request, reply);
      const body = parseInput(tokenBody, request.body);
      const { revokedSessions } = await tessera.email.alerts.notMe(body.token, clientContext(request));
      return { locked: true, revokedSessions };
    });
  };
}

/** A fresh login after a reset, when the client asked for one (same credentials as POST /auth/login). */
async function openLogin(
  tessera: Tessera,
  request: FastifyRequest,
  reply: FastifyReply,
  user: UserRecord,
  transport: Transport,
) {
  // A user with a second factor still needs it: the emailed link proves the address, not the
  // factor, so the answer is the login's challenge, never a login that skipped it.
  const answer = await answerFirstFactor(tessera, request, reply, user, transport);
  if (!('session' in answer)) return answer;
  const { user: _user, ...login } = answer;
  return login;
}
