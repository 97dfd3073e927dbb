import type { MiddlewareHandler } from 'hono';
import { CSRF_HEADER } from '../wire/credentials.js';
import { type AuthRequirements, type AuthSource, createGuard, verifierOf } from './guard.js';
import type { Principal } from './principal.js';
import type { Verifier } from './verify.js';

export type { AuthRequirements } from './guard.js';
export type { Principal } from './principal.js';
export { createVerifier, type Verifier, type VerifierOptions } from './verify.js';

/** `new Hono<AuthEnv>()`: then `c.get('principal')` is typed behind `requireAuth()`. */
export interface AuthEnv {
  Variables: { principal: Principal };
}

export interface HonoAuth {
  readonly verifier: Verifier;
  /** Middleware: sets `c.get('principal')`, or answers 401, 403 or 503. */
  requireAuth(requirements?: AuthRequirements): MiddlewareHandler<AuthEnv>;
  close(): Promise<void>;
}

/**
 * `tessera/hono`:
 *   const { requireAuth } = createAuth({ mode: 'jwt', tesseraUrl: 'http://127.0.0.1:3000' });
 *   app.get('/me', requireAuth(), (c) => c.json(c.get('principal')));
 */
export function createAuth(source: AuthSource): HonoAuth {
  const verifier = verifierOf(source);
  return {
    verifier,
    requireAuth(requirements) {
      const guard = createGuard(verifier, requirements);
      return async (c, next) => {
        const outcome = await guard({
          method: c.req.method,
          authorization: c.req.header('authorization'),
          cookie: c.req.header('cookie'),
          csrfToken: c.req.header(CSRF_HEADER),
        });
        if (!outcome.ok) return c.json(outcome.body, outcome.status, outcome.headers);
        c.set('principal', outcome.principal);
        await next();
      };
    },
    close: () => verifier.close(),
  };
}
