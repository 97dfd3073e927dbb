import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../../config.js';
import { AuthError } from '../../core/errors.js';
import { isLive } from '../../core/oauth/api-keys.js';
import { describeScopes } from '../../core/oauth/scopes.js';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { ApiKeyRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { apiKeyAnswer } from '../api/schemas.js';
import { clientContext, requireAuth } from '../credentials.js';
import { requireFreshProof } from '../guards.js';
import { parseInput, text } from '../validation.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const clientParams = z.strictObject({ client: text(64).pipe(z.string().min(1)) });
const keyParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });
const newKeyBody = z.strictObject({
  name: text(100),
  scopes: z.array(text(64)).min(1).max(100),
  /** A duration like 30d or 12h; default 90 days, at most 365. */
  expiresIn: text(16).optional(),
  /** The account's password, again: a key outlives the login that makes it (401 without it). */
  password: text(MAX_PASSWORD_LENGTH * 4).optional(),
});

const api = {
  grants: {
    summary: 'The applications the caller authorised, with the scopes granted',
    responses: {
      200: z.strictObject({
        grants: z.array(
          z.strictObject({
            clientId: z.string(),
            clientName: z.string(),
            scopes: z.array(z.strictObject({ name: z.string(), description: z.string() })),
            createdAt: z.iso.datetime({ offset: true }),
            lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
          }),
        ),
      }),
    },
  },
  revokeGrant: {
    summary: "Withdraw an application's access (its tokens end)",
    params: clientParams,
    responses: { 204: null },
  },
  createKey: {
    summary: 'Create an API key (shown once); needs the password again',
    body: newKeyBody,
    responses: { 201: z.strictObject({ apiKey: apiKeyAnswer, key: z.string() }) },
  },
  keys: {
    summary: "The caller's API keys (never the keys themselves)",
    responses: { 200: z.strictObject({ apiKeys: z.array(apiKeyAnswer) }) },
  },
  revokeKey: { summary: 'Revoke one of the caller’s API keys', params: keyParams, responses: { 204: null } },
} satisfies Record<string, RouteApi>;
const newKeyRoute = { config: { rateLimitAction: 'password' as const, api: api.createKey } };

/** What the owner and the admin see of an API key: never its hash. */
export const apiKeyView = (key: ApiKeyRecord, now: number) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  status: key.revokedAt !== null ? 'revoked' : isLive(key, now) ? 'active' : 'expired',
  createdAt: iso(key.createdAt),
  expiresAt: iso(key.expiresAt),
  lastUsedAt: iso(key.lastUsedAt),
  revokedAt: iso(key.revokedAt),
});

/**
 * A user's third-party access: the apps they authorised (GET/DELETE /auth/grants) and their
 * API keys (/auth/api-keys). Only a first-party login reaches these: a delegated OAuth token
 * or an API key never authenticates to Tessera's own API, so no app can widen its own access.
 */
export function oauthAccountRoutes(tessera: Tessera) {
  const { oauth } = tessera;
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireAuth());

    app.get('/auth/grants', { config: { api: api.grants } }, async (request) => {
      const grants = await oauth.authorization.listGrants(request.auth.userId);
      return {
        grants: grants.map(({ grant, client }) => ({
          clientId: client.id,
          clientName: client.name,
          scopes: describeScopes(grant.scopes, oauth.scopes),
          createdAt: iso(grant.createdAt),
          lastUsedAt: iso(grant.lastUsedAt),
        })),
      };
    });

    app.delete('/auth/grants/:client', { config: { api: api.revokeGrant } }, async (request, reply) => {
      const { client } = parseInput(clientParams, request.params);
      if (!(await oauth.authorization.revokeGrant(request.auth.userId, client, clientContext(request)))) {
        throw new AuthError('grant_not_found');
      }
      return reply.code(204).send();
    });

    app.post(
      '/auth/api-keys',
      { ...newKeyRoute, preHandler: requireFreshProof(tessera) },
      async (request, reply) => {
        const body = parseInput(newKeyBody, request.body);
        const expiresInMs = body.expiresIn === undefined ? undefined : parseDuration(body.expiresIn);
        if (body.expiresIn !== undefined && expiresInMs === undefined) {
          throw new AuthError(
            'invalid_request',
            'The request is invalid (expiresIn: a duration like 30d or 12h).',
          );
        }
        // After the body parses, so a malformed request costs no password hash.
        await tessera.accounts.confirmPassword(request.auth.userId, body.password);
        const { key, record } = await oauth.apiKeys.create(
          request.auth.userId,
          { name: body.name, scopes: body.scopes, ...(expiresInMs !== undefined && { expiresInMs }) },
          { actorId: request.auth.userId, client: clientContext(request) },
        );
        // The key itself appears here once and is stored nowhere.
        return reply.code(201).send({ apiKey: apiKeyView(record, tessera.runtime.now()), key });
      },
    );

    app.get('/auth/api-keys', { config: { api: api.keys } }, async (request) => {
      const now = tessera.runtime.now();
      const keys = await oauth.apiKeys.list({ userId: request.auth.userId });
      return { apiKeys: keys.map((k) => apiKeyView(k, now)) };
    });

    app.delete('/auth/api-keys/:id', { config: { api: api.revokeKey } }, async (request, reply) => {
      const { id } = parseInput(keyParams, request.params);
      const actor = { actorId: request.auth.userId, client: clientContext(request) };
      // Another user's key id gets the same 404 as a missing one.
      if (!(await oauth.apiKeys.revoke(id, request.auth.userId, actor))) {
        throw new AuthError('api_key_not_found', 'You have no live API key with this id.');
      }
      return reply.code(204).send();
    });
  };
}
