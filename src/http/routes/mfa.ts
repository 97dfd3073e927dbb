import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderSVG } from 'uqr';
import { z } from 'zod';
import { AMR } from '../../core/auth-context.js';
import { AuthError } from '../../core/errors.js';
import type { UserRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { clientContext, optionalAuth, requireAuth, type Transport } from '../credentials.js';
import { requireFreshProof } from '../guards.js';
import type { RoutePolicy } from '../route-policy.js';
import { parseInput, text } from '../validation.js';
import { clearChallengeCookie, finishLogin, presentedChallenge } from './login-answer.js';

// A challenge token is `<id>.<secret>` (66 characters); anything much longer is not one.
const mfaToken = text(200).optional();
const enrolBody = z.strictObject({ mfaToken }).optional();
const confirmBody = z.strictObject({ code: text(32), mfaToken });

// The second step of a login counts against the login limits (per IP) like the first; the
// account's own attempt limit is core's (core/mfa/attempts.ts). It is a way in: no anti-CSRF
// token (no login yet); the challenge cookie is SameSite=Strict, so no other site can send it.
const verifyPolicy: RoutePolicy = { rateLimitAction: 'login', csrfExempt: true };

/**
 * Second factors over HTTP (issue 18): the login's second step, TOTP enrolment (by a logged-in
 * user, or by one the role policy makes enrol before their first login), removal, recovery
 * codes and the user's own view of their factors. Which factors exist is the registry's
 * (tessera.secondFactors): the verify route hands the body's proof field to its method.
 */
export function mfaRoutes(tessera: Tessera) {
  const { mfa } = tessera;
  const fresh = [requireAuth(), requireFreshProof(tessera)];

  /** The one proof field of a registered method, and mfaToken: anything else is 400. */
  const proofBody = (body: unknown): Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AuthError('invalid_request', 'The request is invalid (body: expected an object).');
    }
    const allowed = new Set([...tessera.secondFactors.fields(), 'mfaToken']);
    const unknown = Object.keys(body).filter((key) => !allowed.has(key));
    if (unknown.length > 0) {
      throw new AuthError(
        'invalid_request',
        `The request is invalid (unknown field ${JSON.stringify(unknown[0])}).`,
      );
    }
    const token = (body as { mfaToken?: unknown }).mfaToken;
    if (token !== undefined && (typeof token !== 'string' || token.length > 200)) {
      throw new AuthError('invalid_request', 'The request is invalid (mfaToken: expected a string).');
    }
    return body as Record<string, unknown>;
  };

  /** The user a live enrolment challenge names (the role policy's first login), and how it came. */
  const enrolmentChallenge = async (request: FastifyRequest, bodyToken: string | undefined) => {
    const presented = presentedChallenge(request, bodyToken);
    const challenge = await mfa.challenges.find(presented.token, 'enrol');
    const user = await tessera.accounts.findById(challenge.userId);
    if (!user || user.lockedAt !== null) throw new AuthError('mfa_challenge_invalid');
    return { challenge, user, transport: presented.transport };
  };

  /**
   * Who is enrolling: a logged-in user with a fresh proof, or (no login presented) the holder of
   * an enrolment challenge. A login always wins: a challenge is only for those without one.
   */
  const enroller = async (request: FastifyRequest, reply: FastifyReply, bodyToken: string | undefined) => {
    const auth = bodyToken === undefined ? await optionalAuth(request) : undefined;
    if (auth) {
      request.auth = auth;
      await requireFreshProof(tessera)(request);
      const user = auth.user ?? (await tessera.accounts.findById(auth.userId));
      if (!user) throw new AuthError('unauthenticated');
      return { user, pending: undefined };
    }
    const pending = await enrolmentChallenge(request, bodyToken);
    void reply;
    return { user: pending.user, pending };
  };

  return async (app: FastifyInstance) => {
    app.post('/auth/mfa/verify', { config: verifyPolicy }, async (request, reply) => {
      const body = proofBody(request.body);
      const presented = presentedChallenge(request, body.mfaToken as string | undefined);
      const challenge = await mfa.challenges.find(presented.token, 'verify');
      const user = await tessera.accounts.findById(challenge.userId);
      if (!user || user.lockedAt !== null) {
        await mfa.challenges.take(challenge).catch(() => undefined);
        throw new AuthError('mfa_challenge_invalid');
      }
      const { mfaToken: _token, ...proof } = body;
      const proven = await mfa.prove(user, proof, { client: clientContext(request), purpose: 'login' });
      // Single use: of racing second steps only the one that takes the challenge opens a login.
      await mfa.challenges.take(challenge);
      clearChallengeCookie(request, reply);
      return finishLogin(tessera, request, reply, user, presented.transport, [
        ...challenge.amr,
        ...proven.amr,
      ]);
    });

    app.post('/auth/mfa/totp', async (request, reply) => {
      const body = parseInput(enrolBody, request.body);
      const { user } = await enroller(request, reply, body?.mfaToken);
      const enrolment = await mfa.totp.begin(user);
      // The QR code is drawn here as SVG: the secret never goes to a third-party QR service.
      return { ...enrolment, qrSvg: renderSVG(enrolment.uri, { ecc: 'M' }) };
    });

    app.post('/auth/mfa/totp/confirm', async (request, reply) => {
      const body = parseInput(confirmBody, request.body);
      const { user, pending } = await enroller(request, reply, body.mfaToken);
      const recoveryCodes = await mfa.confirmTotp(user, body.code, clientContext(request));
      if (!pending) return { recoveryCodes };
      // The policy's enrolment ends in the login it stood in for: password + the code just shown.
      await mfa.challenges.take(pending.challenge);
      clearChallengeCookie(request, reply);
      const login = await finishLogin(tessera, request, reply, user, pending.transport as Transport, [
        ...pending.challenge.amr,
        AMR.otp,
      ]);
      return { recoveryCodes, ...login };
    });

    app.delete('/auth/mfa/totp', { preHandler: fresh }, async (request, reply) => {
      const user = await callerOf(tessera, request);
      await mfa.removeTotp(user, clientContext(request));
      return reply.code(204).send();
    });

    app.post('/auth/mfa/recovery-codes', { preHandler: fresh }, async (request) => {
      const user = await callerOf(tessera, request);
      return { recoveryCodes: await mfa.regenerateRecoveryCodes(user, clientContext(request)) };
    });

    app.get('/auth/mfa', { preHandler: requireAuth() }, async (request) => {
      const status = await mfa.status(await callerOf(tessera, request));
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      return { ...status, totp: { ...status.totp, since: iso(status.totp.since) } };
    });
  };
}

async function callerOf(tessera: Tessera, request: FastifyRequest): Promise<UserRecord> {
  const user = request.auth.user ?? (await tessera.accounts.findById(request.auth.userId));
  if (!user) throw new AuthError('unauthenticated');
  return user;
}
