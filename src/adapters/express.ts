import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CSRF_HEADER } from '../wire/credentials.js';
import { type AuthRequirements, type AuthSource, createGuard, verifierOf } from './guard.js';
import type { Principal } from './principal.js';
import type { Verifier } from './verify.js';

export type { AuthRequirements } from './guard.js';
export type { Principal } from './principal.js';
export { createVerifier, type Verifier, type VerifierOptions } from './verify.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireAuth()`; only routes behind it have one. */
      principal: Principal;
    }
  }
}

export interface ExpressAuth {
  readonly verifier: Verifier;
  /** Middleware: sets `req.principal` and calls next(), or answers 401, 403 or 503. */
  requireAuth(requirements?: AuthRequirements): RequestHandler;
  close(): Promise<void>;
}

/**
 * `tessera/express` (express 4 or 5):
 *   const { requireAuth } = createAuth({ mode: 'jwt', tesseraUrl: 'http://127.0.0.1:3000' });
 *   app.get('/me', requireAuth(), (req, res) => { res.json(req.principal); });
 */
export function createAuth(source: AuthSource): ExpressAuth {
  const verifier = verifierOf(source);
  return {
    verifier,
    requireAuth(requirements) {
      const guard = createGuard(verifier, requirements);
      return (req: Request, res: Response, next: NextFunction) => {
        const csrf = req.headers[CSRF_HEADER];
        guard({
          method: req.method,
          authorization: req.headers.authorization,
          cookie: req.headers.cookie,
          csrfToken: typeof csrf === 'string' ? csrf : undefined,
        }).then((outcome) => {
          if (outcome.ok) {
            req.principal = outcome.principal;
            next();
          } else {
            res.status(outcome.status).set(outcome.headers).json(outcome.body);
          }
        }, next);
      };
    },
    close: () => verifier.close(),
  };
}
