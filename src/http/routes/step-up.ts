import type { FastifyInstance } from 'fastify';
import { AMR } from '../../core/auth-context.js';
import { AuthError } from '../../core/errors.js';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { Tessera } from '../../tessera.js';
import { clientContext, requireAuth } from '../credentials.js';
import type { RoutePolicy } from '../route-policy.js';
import { sessionView } from '../views.js';

// Wrong passwords and codes count as password guesses do (per IP and per login); codes also
// count against the account's second-factor limit (core/mfa/attempts.ts).
const stepUpPolicy: RoutePolicy = { rateLimitAction: 'password' };

/**
 * `POST /auth/reauthenticate {password | code | recoveryCode | <other factor's field>}`: a
 * fresh proof on the current login (RFC 9470 step-up). auth_time becomes now and amr exactly
 * what was proven (Sessions.recordProof), no new login is made, and the login's credentials
 * are reissued so they carry it: in jwt/hybrid the access token's auth_time/amr/acr; in
 * session mode a new session token (a login whose assurance rose gets a new credential, as
 * after any privilege change). Cookie clients get new cookies; bearer clients the new token(s).
 */
export function stepUpRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.post(
      '/auth/reauthenticate',
      { preHandler: requireAuth(), config: stepUpPolicy },
      async (request, reply) => {
        const body = request.body;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new AuthError('invalid_request', 'The request is invalid (body: expected an object).');
        }
        const fields = Object.keys(body);
        const allowed = new Set(['password', ...tessera.secondFactors.fields()]);
        const unknown = fields.find((field) => !allowed.has(field));
        if (unknown !== undefined || fields.length !== 1) {
          throw new AuthError(
            'invalid_request',
            `Send exactly one of: ${[...allowed].join(', ')}${unknown === undefined ? '' : ` (unknown field ${JSON.stringify(unknown)})`}.`,
          );
        }
        const { userId, sessionId, transport } = request.auth;
        const user = request.auth.user ?? (await tessera.accounts.findById(userId));
        if (!user) throw new AuthError('unauthenticated');
        const client = clientContext(request);
        let amr: string[];
        const password = (body as { password?: unknown }).password;
        if (password !== undefined) {
          if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH * 4) {
            throw new AuthError('invalid_request', 'The request is invalid (password: expected a string).');
          }
          await tessera.accounts.confirmPassword(userId, password);
          amr = [AMR.password];
        } else {
          amr = (
            await tessera.mfa.prove(user, body as Record<string, unknown>, { client, purpose: 'step-up' })
          ).amr;
        }
        const now = tessera.runtime.now();
        const context = await tessera.sessions.recordProof(sessionId, amr, now);
        const session = context && (await tessera.sessions.find(sessionId));
        if (!session) throw new AuthError('unauthenticated');
        await tessera.audit.record('login.step_up', {
          userId,
          sessionId,
          client,
          detail: { amr: session.amr },
        });
        const credentials = await app.loginMode.reissue(reply, transport, session, user);
        return {
          authTime: new Date(session.authTime).toISOString(),
          amr: session.amr,
          acr: session.acr,
          session: sessionView(tessera, session),
          ...credentials,
        };
      },
    );
  };
}
