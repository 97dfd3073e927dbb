import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Tessera } from '../../tessera.js';
import { BACKGROUND_HEADER } from '../credentials.js';
import { CSRF_HEADER } from './csrf.js';
import { originNotAllowed } from './origin.js';

/**
 * CORS for an allowlist only (TESSERA_CORS_ORIGINS, exact `scheme://host[:port]` strings).
 * A listed origin gets its own origin echoed back with `Access-Control-Allow-Credentials: true`;
 * anything else (unlisted, `null`, look-alikes such as `https://app.example.com.evil.test`,
 * which an exact Set lookup cannot confuse) gets no CORS header at all, so the browser keeps
 * the response from the page. Never `*`: the Fetch standard refuses `*` with credentials, and a
 * reflected wildcard would hand every site on the web the user's logged-in answers.
 */

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = `authorization, content-type, ${CSRF_HEADER}, ${BACKGROUND_HEADER}`;
// Browsers cap this (Chromium at 2 h); 10 minutes keeps a removed origin from lingering long.
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function corsPlugin(tessera: Tessera) {
  const allowed = new Set(tessera.config.corsOrigins);
  // No body, nothing to describe: outside GET /openapi.json (api/route-api.ts).
  const preflight = { config: { api: { hidden: 'CORS preflight (no body)' } } };
  return fp(
    async (app: FastifyInstance) => {
      // `Vary: Origin` is in every answer's precomputed security headers (security-headers.ts).
      // No hook at all without listed origins; with them, nothing to do without an Origin.
      if (allowed.size > 0)
        app.addHook('onRequest', (request, reply, done) => {
          const origin = request.headers.origin;
          if (typeof origin === 'string' && allowed.has(origin)) {
            reply.header('access-control-allow-origin', origin);
            reply.header('access-control-allow-credentials', 'true');
            reply.header('access-control-expose-headers', 'Retry-After');
          }
          done();
        });

      app.options('/*', preflight, async (request, reply) => {
        const origin = request.headers.origin;
        if (request.headers['access-control-request-method'] === undefined) return reply.callNotFound();
        if (typeof origin !== 'string' || !allowed.has(origin)) throw originNotAllowed();
        return reply
          .code(204)
          .header('access-control-allow-methods', ALLOWED_METHODS)
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
          .send();
      });
    },
    { name: 'tessera-cors' },
  );
}
