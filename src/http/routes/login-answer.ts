import type { FastifyReply, FastifyRequest } from 'fastify';
import { AMR, hasSecondFactor } from '../../core/auth-context.js';
import type { UserRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { clientContext, type Transport } from '../credentials.js';
import { sessionView, userView } from '../views.js';

/**
 * The pending second step of a login (core/mfa/challenges.ts): HttpOnly, Secure, Path=/ (the
 * verify and enrolment routes read it), SameSite=Strict (no other site can make a browser send
 * it), five minutes. Bearer clients get the same value as `mfaToken` in the body instead.
 */
export const MFA_CHALLENGE_COOKIE = '__Host-tessera_mfa';
const CHALLENGE_COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'strict' } as const;

/** The challenge a request presents: `mfaToken` in the body, else the cookie. */
export function presentedChallenge(
  request: FastifyRequest,
  bodyToken: string | undefined,
): { token: string | undefined; transport: Transport } {
  if (bodyToken !== undefined) return { token: bodyToken, transport: 'bearer' };
  return { token: request.cookies[MFA_CHALLENGE_COOKIE], transport: 'cookie' };
}

export function clearChallengeCookie(request: FastifyRequest, reply: FastifyReply): void {
  if (request.cookies[MFA_CHALLENGE_COOKIE] !== undefined) {
    reply.clearCookie(MFA_CHALLENGE_COOKIE, CHALLENGE_COOKIE_OPTIONS);
  }
}

/**
 * What a login answers once the first factor (a password, or a passkey) has passed:
 * - the user has a second factor and `amr` lacks one → 200 `{mfaRequired: true, methods}` and a
 *   challenge (cookie, or `mfaToken` for bearer clients); no login exists yet;
 * - TESSERA_MFA_REQUIRED_ROLES names a role of the user and they have no factor →
 *   200 `{mfaEnrollmentRequired: true, methods: ["totp"]}` and a challenge that opens only
 *   enrolment (POST /auth/mfa/totp, /auth/mfa/totp/confirm), which ends in the login;
 * - otherwise the login itself (finishLogin).
 */
export async function answerFirstFactor(
  tessera: Tessera,
  request: FastifyRequest,
  reply: FastifyReply,
  user: UserRecord,
  transport: Transport,
  amr: readonly string[] = [AMR.password],
) {
  const methods = await tessera.mfa.methodsOf(user);
  const needsFactor = methods.length > 0 && !hasSecondFactor(amr);
  const needsEnrolment = methods.length === 0 && tessera.mfa.requiredFor(user) && !hasSecondFactor(amr);
  if (!needsFactor && !needsEnrolment) return finishLogin(tessera, request, reply, user, transport, amr);
  const purpose = needsFactor ? 'verify' : 'enrol';
  const token = await tessera.mfa.challenges.issue(user.id, purpose, amr);
  tessera.telemetry.login('mfa_required');
  await tessera.audit.record('login.mfa_challenged', {
    userId: user.id,
    client: clientContext(request),
    detail: { purpose, methods },
  });
  if (transport === 'cookie') {
    reply.setCookie(MFA_CHALLENGE_COOKIE, token, { ...CHALLENGE_COOKIE_OPTIONS, maxAge: 300 });
  }
  const delivered = transport === 'bearer' ? { mfaToken: token } : {};
  return needsFactor
    ? { mfaRequired: true, methods, ...delivered }
    : { mfaEnrollmentRequired: true, methods: ['totp'], ...delivered };
}

/**
 * Opens the login (the mode's credentials as cookies or in the body) and answers exactly as
 * `POST /auth/login` does: `{user, session, ...credentials}`, audited, with the new-device alert.
 * `amr` says how the user proved who they are (["pwd"], ["mfa","otp","pwd"], ["hwk"] …).
 */
export async function finishLogin(
  tessera: Tessera,
  request: FastifyRequest,
  reply: FastifyReply,
  user: UserRecord,
  transport: Transport,
  amr: readonly string[],
) {
  const client = clientContext(request);
  const { session, credentials } = await request.server.loginMode.openLogin(
    request,
    reply,
    user,
    transport,
    amr,
  );
  // Failures are counted by Accounts.authenticate (failure, locked), 429s by the rate limit.
  tessera.telemetry.login('success');
  await tessera.audit.record('login.succeeded', {
    userId: user.id,
    sessionId: session.id,
    client,
    detail: { amr: session.amr },
  });
  // The new-device alert must never fail a login that succeeded: a store error is logged.
  await tessera.email.alerts
    .noteLogin(user, client)
    .catch((error: unknown) => request.log.error({ err: error }, 'new-device alert failed'));
  return { user: userView(user), session: sessionView(tessera, session), ...credentials };
}
