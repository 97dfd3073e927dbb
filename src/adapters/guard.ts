import { type ErrorCode, errorBody } from '../core/errors.js';
import { CSRF_HEADER, UNSAFE_METHODS } from '../wire/credentials.js';
import type { AuthFailure, Principal } from './principal.js';
import { createVerifier, type Verifier, type VerifierOptions } from './verify.js';

/**
 * The decision every framework adapter makes, in one place: authenticate, then the anti-CSRF
 * check for cookie-authenticated state changes, then roles, then scopes. The adapters only
 * translate a request into `GuardRequest` and a refusal into their framework's response.
 */

export interface AuthRequirements {
  /** The caller needs at least one of these roles (403 `forbidden` otherwise). */
  roles?: readonly string[];
  /** The caller needs every one of these scopes (403 `insufficient_scope`, RFC 6750 3.1). */
  scopes?: readonly string[];
  /**
   * Step-up (RFC 9470): the user must have proved who they are at most this long ago
   * (`auth_time`): '90s', '5m', '1h', or a number of seconds. Otherwise 401 `step_up_required`
   * with `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=…`; the
   * client calls Tessera's `POST /auth/reauthenticate` and retries (the SDK emits `step-up-required`).
   */
  freshWithin?: string | number;
  /**
   * Step-up by method: the login's `amr` must include at least one of these RFC 8176 values,
   * e.g. ['otp', 'hwk', 'swk'] (a second factor or a passkey). Same refusal as freshWithin.
   */
  amr?: readonly string[];
}

export interface GuardRequest {
  method: string;
  authorization: string | undefined;
  cookie: string | undefined;
  /** The x-csrf-token header. */
  csrfToken: string | undefined;
}

export interface Refusal {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: ErrorCode; message: string };
}

export type GuardOutcome = { ok: true; principal: Principal } | ({ ok: false } & Refusal);

export type Guard = (request: GuardRequest) => Promise<GuardOutcome>;

/** What each adapter's `createAuth` accepts: a verifier, or the options to build one. */
export type AuthSource = Verifier | VerifierOptions;

export const verifierOf = (source: AuthSource): Verifier =>
  'authenticate' in source ? source : createVerifier(source);

export function createGuard(verifier: Verifier, requirements: AuthRequirements = {}): Guard {
  const roles = names(requirements.roles, 'roles');
  const scopes = names(requirements.scopes, 'scopes');
  const methods = names(requirements.amr, 'amr');
  const maxAgeSeconds =
    requirements.freshWithin === undefined ? undefined : secondsOf(requirements.freshWithin);
  return async (request) => {
    const result = await verifier.authenticate({
      authorization: request.authorization,
      cookie: request.cookie,
    });
    if (!result.ok) return refuseAuthentication(result.failure);
    const { principal } = result;
    // Cookies ride along on cross-site requests; a header cannot (without a CORS preflight).
    if (principal.transport === 'cookie' && UNSAFE_METHODS.has(request.method.toUpperCase())) {
      if (!verifier.csrfTokenMatches(principal.sessionId, request.csrfToken)) {
        return refuse(
          403,
          'csrf_token_invalid',
          verifier.csrfConfigured
            ? `This request needs the ${CSRF_HEADER} header for your login: get it from GET /auth/csrf.`
            : 'This server accepts cookie-authenticated changes only with a csrfSecret configured.',
        );
      }
    }
    if (roles.length > 0 && !roles.some((role) => principal.roles.includes(role))) {
      return refuse(403, 'forbidden', `This needs the role ${roles.join(' or ')}.`);
    }
    const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      return refuse(403, 'insufficient_scope', `This needs the scope ${scopes.join(' ')}.`, {
        'www-authenticate': `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`,
      });
    }
    // After roles and scopes: a step-up cannot grant what the caller may never do.
    const stale =
      maxAgeSeconds !== undefined &&
      (principal.authTime === undefined || verifier.now() - principal.authTime > maxAgeSeconds * 1000);
    const weak = methods.length > 0 && !methods.some((method) => principal.amr.includes(method));
    if (stale || weak) return refuseStepUp(stale, methods, maxAgeSeconds);
    return { ok: true, principal };
  };
}

/** RFC 9470 3: the challenge names what would satisfy the resource (max_age; the methods in words). */
function refuseStepUp(
  stale: boolean,
  methods: readonly string[],
  maxAgeSeconds: number | undefined,
): GuardOutcome {
  const message = stale
    ? `Confirm who you are again: this needs a proof from the last ${maxAgeSeconds} seconds (POST /auth/reauthenticate).`
    : `Confirm who you are with ${methods.join(' or ')} (POST /auth/reauthenticate).`;
  const maxAge = maxAgeSeconds === undefined ? '' : `, max_age=${maxAgeSeconds}`;
  return refuse(401, 'step_up_required', message, {
    'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${quotable(message)}"${maxAge}`,
  });
}

/** '90s', '5m', '1h', or whole seconds. */
function secondsOf(value: string | number): number {
  const match = typeof value === 'string' ? /^(\d{1,6})(s|m|h)$/.exec(value) : undefined;
  const seconds =
    typeof value === 'number'
      ? value
      : match
        ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h']
        : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new TypeError("requireAuth: freshWithin must be like '90s', '5m', '1h', or whole seconds (≥ 1).");
  }
  return seconds;
}

/**
 * RFC 6750 3: no credential gets a bare `Bearer` challenge (no error code: the client may not
 * know it needs one); a refused one gets `error="invalid_token"`. 503 means "cannot tell now".
 */
function refuseAuthentication(failure: AuthFailure): GuardOutcome {
  if (failure.status === 503) return refuse(503, failure.code, failure.message, { 'retry-after': '1' });
  const challenge = failure.credentialPresented
    ? `Bearer error="invalid_token", error_description="${quotable(failure.message)}"`
    : 'Bearer';
  return refuse(401, failure.code, failure.message, { 'www-authenticate': challenge });
}

const refuse = (
  status: Refusal['status'],
  error: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): GuardOutcome => ({ ok: false, status, headers, body: errorBody(error, message) });

/** error_description: printable ASCII without `"` and `\` (RFC 6750 3). */
const quotable = (text: string) => text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');

/** Role and scope names: Tessera's role syntax (and OAuth scope tokens) have no spaces or quotes. */
function names(list: readonly string[] | undefined, what: string): readonly string[] {
  if (list === undefined) return [];
  if (
    !Array.isArray(list) ||
    !list.every((name) => typeof name === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(name))
  ) {
    throw new TypeError(`requireAuth: ${what} must be a list of names without spaces or quotes.`);
  }
  return [...list];
}
