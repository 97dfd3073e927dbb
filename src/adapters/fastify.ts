import type { FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_HEADER } from '../wire/credentials.js';
import { type AuthRequirements, type AuthSource, createGuard, verifierOf } from './guard.js';
import type { Principal } from './principal.js';
import type { Verifier } from './verify.js';

export type { AuthRequirements } from './guard.js';
export type { Principal } from './principal.js';
export { createVerifier, type Verifier, type VerifierOptions } from './verify.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAuth()`; only routes behind it have one. */
    principal: Principal;
  }
}

export interface FastifyAuth {
  readonly verifier: Verifier;
  /** A preHandler: sets `request.principal`, or answers 401, 403 or 503. */
  requireAuth(
    requirements?: AuthRequirements,
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  close(): Promise<void>;
}

/**
 * `tessera/fastify`:
 *   const { requireAuth } = createAuth({ mode: 'jwt', tesseraUrl: 'http://127.0.0.1:3000' });
 *   app.get('/me', { preHandler: requireAuth() }, async (request) => request.principal);
 */
export function createAuth(source: AuthSource): FastifyAuth {
  const verifier = verifierOf(source);
  return {
    verifier,
    requireAuth(requirements) {
      const guard = createGuard(verifier, requirements);
      return async (request, reply) => {
        const csrf = request.headers[CSRF_HEADER];
        const outcome = await guard({
          method: request.method,
          authorization: request.headers.authorization,
          cookie: request.headers.cookie,
          csrfToken: typeof csrf === 'string' ? csrf : undefined,
        });
        if (outcome.ok) {
          request.principal = outcome.principal;
          return;
        }
        // Answering from an async hook: send, then return the reply (fastify stops the chain).
        return reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
      };
    },
    close: () => verifier.close(),
  };
}
