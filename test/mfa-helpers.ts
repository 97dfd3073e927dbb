import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { MFA_CHALLENGE_COOKIE } from '../src/http/routes/login-answer.js';
import { nowOf } from './helpers.js';

/**
 * Second factors as a person with an authenticator app uses them: codes are computed with
 * otpauth (an independent RFC 6238 implementation) from the secret Tessera showed at enrolment,
 * at the server's clock (the manual clock in tests).
 */

export const totpAt = (secret: string, timestamp: number): string =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp,
  });

export const stepOf = (timestamp: number) => Math.floor(timestamp / 1000 / 30);

/** What the helper remembers of an enrolled account: its secret, the last step used, its recovery codes. */
export interface Authenticator {
  secret: string;
  lastStep: number;
  recoveryCodes: string[];
}

const authenticators = new Map<string, Authenticator>();

/** The authenticator the helper enrolled for this email (undefined: none). */
export const authenticatorOf = (email: string) => authenticators.get(email.toLowerCase());

/**
 * A code the server has not seen for this account: the earliest step within ±1 of now that is
 * later than the last one used (a code is accepted once), or undefined when all three are spent.
 */
export function nextCode(email: string, now: number): string | undefined {
  const app = authenticators.get(email.toLowerCase());
  if (!app) throw new Error(`no authenticator enrolled for ${email}`);
  const current = stepOf(now);
  for (const step of [current - 1, current, current + 1]) {
    if (step > app.lastStep) {
      app.lastStep = step;
      return totpAt(app.secret, step * 30_000);
    }
  }
  return undefined;
}

/** The proof for the next second step: a fresh code, else one of the recovery codes. */
export function nextProof(email: string, now: number): { code: string } | { recoveryCode: string } {
  const code = nextCode(email, now);
  if (code) return { code };
  const recoveryCode = authenticators.get(email.toLowerCase())?.recoveryCodes.shift();
  if (!recoveryCode) throw new Error(`no code or recovery code left for ${email}`);
  return { recoveryCode };
}

/** Remembers an authenticator enrolled some other way (the console in a browser). */
export function rememberAuthenticator(
  email: string,
  secret: string,
  lastStep: number,
  recoveryCodes: string[],
) {
  authenticators.set(email.toLowerCase(), { secret, lastStep, recoveryCodes });
}

const challengeCookie = (response: LightMyRequestResponse) =>
  response.cookies.find((c) => c.name === MFA_CHALLENGE_COOKIE)?.value;

const withCookie = (headers: Record<string, string>, cookie: string | undefined) =>
  cookie === undefined
    ? headers
    : {
        ...headers,
        cookie: [headers.cookie, `${MFA_CHALLENGE_COOKIE}=${cookie}`].filter(Boolean).join('; '),
      };

/**
 * Enrols TOTP for a user the policy makes enrol (the answer of their first login) with a real
 * code, remembering the secret and recovery codes; returns the confirm answer, which is the login.
 */
export async function enrolFromChallenge(
  app: FastifyInstance,
  login: LightMyRequestResponse,
  email: string,
  now: number,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const mfaToken = login.json().mfaToken as string | undefined;
  const sent = withCookie(headers, challengeCookie(login));
  const begin = await app.inject({
    method: 'POST',
    url: '/auth/mfa/totp',
    headers: sent,
    payload: mfaToken === undefined ? {} : { mfaToken },
  });
  if (begin.statusCode !== 200) throw new Error(`enrolment failed: ${begin.statusCode} ${begin.body}`);
  const { secret } = begin.json() as { secret: string };
  const step = stepOf(now);
  const confirm = await app.inject({
    method: 'POST',
    url: '/auth/mfa/totp/confirm',
    headers: sent,
    payload: { code: totpAt(secret, step * 30_000), ...(mfaToken !== undefined && { mfaToken }) },
  });
  if (confirm.statusCode !== 200) throw new Error(`confirm failed: ${confirm.statusCode} ${confirm.body}`);
  authenticators.set(email.toLowerCase(), {
    secret,
    lastStep: step,
    recoveryCodes: confirm.json().recoveryCodes,
  });
  return confirm;
}

/** Answers a login's `mfaRequired` challenge with the next code (or recovery code). */
export async function verifyChallenge(
  app: FastifyInstance,
  login: LightMyRequestResponse,
  email: string,
  now: number,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const mfaToken = login.json().mfaToken as string | undefined;
  const verify = await app.inject({
    method: 'POST',
    url: '/auth/mfa/verify',
    headers: withCookie(headers, challengeCookie(login)),
    payload: { ...nextProof(email, now), ...(mfaToken !== undefined && { mfaToken }) },
  });
  if (verify.statusCode !== 200)
    throw new Error(`second factor refused: ${verify.statusCode} ${verify.body}`);
  return verify;
}

/**
 * `POST /auth/login`, then whatever second step the answer asks for, as a person would: an
 * admin (TESSERA_MFA_REQUIRED_ROLES) with no factor enrols an authenticator app with a real
 * code; an enrolled user types the next code. The answer is the one that opened the login,
 * shaped like a plain login's (user, session, cookies or tokens). `now`: the server's clock.
 */
export async function loginWithSecondFactor(
  app: FastifyInstance,
  body: { email: string; password: string; transport?: 'cookie' | 'bearer' },
  now: number = nowOf(app),
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: body, headers });
  if (login.statusCode !== 200) return login;
  const answer = login.json();
  if (answer.mfaEnrollmentRequired) return enrolFromChallenge(app, login, body.email, now, headers);
  if (answer.mfaRequired) return verifyChallenge(app, login, body.email, now, headers);
  return login;
}
