import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../core/control.js';
import { AuthError } from '../../core/errors.js';
import { LOGOUT_TOKEN_FORMAT, logoutDeliveryView } from '../../events/backchannel-logout.js';
import type { OAuthClientRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { apiKeyAnswer, clientAnswer } from '../api/schemas.js';
import { clientContext } from '../credentials.js';
import { requireAdmin, requireFreshProof } from '../guards.js';
import { parseInput, text } from '../validation.js';
import { apiKeyView } from './oauth-account.js';

const iso = (ms: number) => new Date(ms).toISOString();

const idParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });
const newClientBody = z.strictObject({
  name: text(100),
  type: z.enum(['confidential', 'public']),
  redirectUris: z.array(text(2000)).max(10).default([]),
  scopes: z.array(text(64)).min(1).max(100),
  /** The resource server its tokens are for (`aud`). */
  audience: text(200),
  grantTypes: z
    .array(z.enum(['authorization_code', 'client_credentials']))
    .min(1)
    .max(2)
    .optional(),
  /** OpenID Connect (clients allowed `openid`): core/oauth/oidc-clients.ts checks them. */
  subjectType: z.enum(['public', 'pairwise']).optional(),
  idTokenSignedResponseAlg: text(20).optional(),
  postLogoutRedirectUris: z.array(text(2000)).max(10).optional(),
  backchannelLogoutUri: text(2000).optional(),
  backchannelLogoutSessionRequired: z.boolean().optional(),
});
const apiKeysQuery = z.strictObject({ user: text(320).optional() });

/** events/backchannel-logout.ts logoutDeliveryView. */
const time = z.iso.datetime({ offset: true });
const logoutDeliveryAnswer = z.strictObject({
  id: z.string(),
  clientId: z.string().nullable(),
  url: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable().describe("The relying party's last HTTP status"),
  lastError: z.string().nullable(),
  endedAt: time.describe('When the login ended'),
  deliveredAt: time.nullable(),
  delayMs: z.number().int().nullable().describe('From the login’s end to the relying party’s 2xx'),
});

const api = {
  clients: {
    summary: 'Registered OAuth clients',
    responses: { 200: z.strictObject({ clients: z.array(clientAnswer) }) },
  },
  createClient: {
    summary: 'Register an OAuth client (a confidential one gets its secret here, once)',
    body: newClientBody,
    responses: { 201: z.strictObject({ client: clientAnswer, clientSecret: z.string().optional() }) },
  },
  deleteClient: {
    summary: 'Delete a client: its grants and tokens end',
    params: idParams,
    responses: { 204: null },
  },
  apiKeys: {
    summary: "Every user's API keys (user: one user's, by id or email)",
    query: apiKeysQuery,
    responses: { 200: z.strictObject({ apiKeys: z.array(apiKeyAnswer.extend({ userId: z.string() })) }) },
  },
  revokeApiKey: { summary: 'Revoke any API key', params: idParams, responses: { 204: null } },
  backchannelLogouts: {
    summary: 'Back-channel logout deliveries to one relying party, newest first (the last 100)',
    params: idParams,
    responses: { 200: z.strictObject({ deliveries: z.array(logoutDeliveryAnswer) }) },
  },
} satisfies Record<string, RouteApi>;

/** What an operator sees of a client: never its secret's hash. */
export const clientView = (client: OAuthClientRecord): z.infer<typeof clientAnswer> => ({
  id: client.id,
  name: client.name,
  type: client.type,
  redirectUris: client.redirectUris,
  scopes: client.scopes,
  grantTypes: client.grantTypes,
  audience: client.audience,
  createdAt: iso(client.createdAt),
  ...(client.oidc && {
    subjectType: client.oidc.subjectType,
    idTokenSignedResponseAlg: client.oidc.idTokenSignedResponseAlg,
    postLogoutRedirectUris: client.oidc.postLogoutRedirectUris,
    backchannelLogoutUri: client.oidc.backchannelLogoutUri,
    backchannelLogoutSessionRequired: client.oidc.backchannelLogoutSessionRequired,
  }),
});

/**
 * The control plane for third-party access: register, list and delete OAuth clients, and see
 * and revoke every user's API keys. The same gate as admin-api.ts: the caller's *stored*
 * account must have the admin role and not be locked.
 */
export function adminOAuthRoutes(tessera: Tessera) {
  const { oauth } = tessera;
  const actorOf = (request: FastifyRequest): Actor => ({
    actorId: request.auth.userId,
    client: clientContext(request),
  });

  return async (app: FastifyInstance) => {
    // The stored admin role, unlocked, and a second factor on this login (guards.ts).
    app.addHook('preHandler', requireAdmin(tessera));

    app.get('/admin/api/clients', { config: { api: api.clients } }, async () => ({
      clients: (await oauth.clients.list()).map(clientView),
    }));

    // Back-channel logout deliveries to one relying party, newest first: status, attempts, the
    // last error, and the delay from the login's end to the relying party's acceptance.
    const backchannelRoute = { config: { api: api.backchannelLogouts } };
    app.get('/admin/api/clients/:id/backchannel-logouts', backchannelRoute, async (request) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await oauth.clients.find(id)))
        throw new AuthError('not_found', 'There is no client with this id.');
      const deliveries = await tessera.stores.deliveries.listDeliveries({ endpointId: id, limit: 100 });
      return {
        deliveries: deliveries.filter((d) => d.format === LOGOUT_TOKEN_FORMAT).map(logoutDeliveryView),
      };
    });

    // The secret is in this answer and nowhere else: it is stored only as a hash.
    app.post(
      '/admin/api/clients',
      { preHandler: requireFreshProof(tessera), config: { api: api.createClient } },
      async (request, reply) => {
        const body = parseInput(newClientBody, request.body);
        const { subjectType, idTokenSignedResponseAlg, postLogoutRedirectUris } = body;
        const { backchannelLogoutUri, backchannelLogoutSessionRequired } = body;
        const oidc = {
          ...(subjectType && { subjectType }),
          ...(idTokenSignedResponseAlg && { idTokenSignedResponseAlg }),
          ...(postLogoutRedirectUris && { postLogoutRedirectUris }),
          ...(backchannelLogoutUri && { backchannelLogoutUri }),
          ...(backchannelLogoutSessionRequired !== undefined && { backchannelLogoutSessionRequired }),
        };
        const { client, clientSecret } = await oauth.clients.create(
          {
            name: body.name,
            type: body.type,
            redirectUris: body.redirectUris,
            scopes: body.scopes,
            audience: body.audience,
            ...(body.grantTypes && { grantTypes: body.grantTypes }),
            oidc,
          },
          actorOf(request),
        );
        return reply.code(201).send({ client: clientView(client), ...(clientSecret && { clientSecret }) });
      },
    );

    app.delete('/admin/api/clients/:id', { config: { api: api.deleteClient } }, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await oauth.clients.delete(id, actorOf(request)))) {
        throw new AuthError('client_not_found');
      }
      return reply.code(204).send();
    });

    app.get('/admin/api/api-keys', { config: { api: api.apiKeys } }, async (request) => {
      const query = parseInput(apiKeysQuery, request.query);
      let userId: string | undefined;
      if (query.user) {
        const user = await tessera.accounts.findByIdOrEmail(query.user);
        if (!user) throw new AuthError('user_not_found');
        userId = user.id;
      }
      const now = tessera.runtime.now();
      const keys = await oauth.apiKeys.list(userId === undefined ? {} : { userId });
      return { apiKeys: keys.map((k) => ({ ...apiKeyView(k, now), userId: k.userId })) };
    });

    app.delete('/admin/api/api-keys/:id', { config: { api: api.revokeApiKey } }, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await oauth.apiKeys.revoke(id, undefined, actorOf(request)))) {
        throw new AuthError('api_key_not_found');
      }
      return reply.code(204).send();
    });
  };
}
