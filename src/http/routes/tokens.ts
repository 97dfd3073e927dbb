import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import type { Keyring } from '../../core/keyring.js';
import type { TokenLogins } from '../../core/token-logins.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { jwksAnswer, tokenPairAnswer } from '../api/schemas.js';
import {
  activityOf,
  clearRefreshCookie,
  clientContext,
  presentedRefreshToken,
  setTokenCookies,
} from '../credentials.js';
import type { RoutePolicy } from '../route-policy.js';
import { parseInput, text } from '../validation.js';
import { tokenPairView } from '../views.js';

// An empty body is fine for browsers (the token is in the cookie); bearer clients send it here.
const refreshBody = z.strictObject({ refreshToken: text(8192).optional() }).default({});

// Web defences (route-policy.ts): attempts count against the refresh limits, and the refresh
// cookie is read even beside a Bearer header, so bearer requests get the Origin check too.
const refreshPolicy: RoutePolicy = { rateLimitAction: 'refresh', originCheckForBearer: true };

const refreshApi: RouteApi = {
  summary: 'Exchange the refresh token (cookie, or body) for new tokens; a spent one ends the family',
  body: refreshBody,
  responses: {
    200: z.union([
      tokenPairAnswer,
      z.strictObject({ accessTokenExpiresAt: z.iso.datetime({ offset: true }) }),
    ]),
  },
};
/** The public keys (every mode publishes them: OAuth signs in session mode too). */
export const jwksApi: RouteApi = { summary: 'Public signing keys (JWK set)', responses: { 200: jwksAnswer } };

/** jwt mode: POST /auth/refresh and the public keys at /.well-known/jwks.json. */
export function tokenRoutes(tessera: Tessera, tokens: TokenLogins, keyring: Keyring) {
  return async (app: FastifyInstance) => {
    app.post('/auth/refresh', { config: { ...refreshPolicy, api: refreshApi } }, async (request, reply) => {
      const body = parseInput(refreshBody, request.body ?? {});
      const fromCookie = body.refreshToken === undefined;
      const presented = presentedRefreshToken(request, body.refreshToken);
      try {
        if (!presented) {
          throw new AuthError('invalid_refresh_token', 'No refresh token was presented: log in again.');
        }
        const pair = await tokens.refresh(presented, clientContext(request), activityOf(request));
        if (!fromCookie) return tokenPairView(tessera, pair);
        setTokenCookies(tessera, reply, pair);
        return { accessTokenExpiresAt: new Date(pair.accessTokenExpiresAt).toISOString() };
      } catch (error) {
        // A refused refresh cookie is dead for good: make the browser forget it.
        if (fromCookie) clearRefreshCookie(reply);
        throw error;
      }
    });

    // Public keys only. Verifiers may cache them for 5 minutes: a next key is published long
    // before it signs, and a revoked key is dropped from here at once (cached copies lag up to this).
    app.get('/.well-known/jwks.json', { config: { api: jwksApi } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keyring.jwks();
    });
  };
}
