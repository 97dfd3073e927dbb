import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasSecondFactor } from '../core/auth-context.js';
import { AuthError } from '../core/errors.js';
import type { Tessera } from '../tessera.js';
import { establishCaller } from './credentials.js';

/**
 * Who may do what beyond "has a live login": the control plane's admins (role, unlocked, and a
 * login that passed a second factor when TESSERA_MFA_REQUIRED_ROLES names the role), and the
 * fresh proof (TESSERA_STEP_UP_MAX_AGE) Tessera's own sensitive actions demand.
 */

/** 401 step_up_required, with RFC 9470's max_age for the WWW-Authenticate header (http/errors.ts). */
export function stepUpRequired(maxAgeMs: number, message?: string): AuthError {
  const error = new AuthError('step_up_required', message);
  return Object.assign(error, { maxAgeSeconds: Math.floor(maxAgeMs / 1000) });
}

/**
 * preHandler after requireAuth: the login's last proof (auth_time) must be at most
 * TESSERA_STEP_UP_MAX_AGE old, else 401 step_up_required: POST /auth/reauthenticate, then retry.
 * A stolen session or token alone cannot change the password, remove a factor, mint an API key,
 * or lock people out.
 */
export function requireFreshProof(tessera: Tessera) {
  const maxAgeMs = tessera.config.mfa.stepUpMaxAgeMs;
  return async (request: FastifyRequest) => {
    if (tessera.runtime.now() - request.auth.authTime > maxAgeMs) throw stepUpRequired(maxAgeMs);
  };
}

/**
 * The control plane's gate: a caller whose *stored* account has the admin role and is not
 * locked (read even in jwt mode), and whose login passed a second factor when the policy names
 * a role of theirs (403 mfa_required: an admin without one enrols at their next login).
 */
export function requireAdmin(tessera: Tessera, message?: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    await establishCaller(request, reply);
    const admin = request.auth.user ?? (await tessera.accounts.findById(request.auth.userId));
    if (!admin || admin.lockedAt !== null || !admin.roles.includes('admin')) {
      throw new AuthError('forbidden', message);
    }
    if (tessera.mfa.requiredFor(admin) && !hasSecondFactor(request.auth.amr)) {
      throw new AuthError('mfa_required');
    }
  };
}
