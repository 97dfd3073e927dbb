import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../core/control.js';
import { AuthError } from '../../core/errors.js';
import type { DeliveryRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { cursorField, encodeCursor, pageLimit, timeIdKey } from '../admin-cursor.js';
import { described, type RouteApi } from '../api/route-api.js';
import { clientContext, establishCaller } from '../credentials.js';
import { parseInput, text } from '../validation.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const idParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });
const deliveryParams = z.strictObject({
  id: text(64).pipe(z.string().min(1)),
  deliveryId: text(64).pipe(z.string().min(1)),
});
const newEndpointBody = z.strictObject({
  url: text(2000).pipe(z.string().min(1)),
  events: z.array(text(64)).min(1).max(50),
  format: z.enum(['standard', 'set']).default('standard'),
});
const deliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: pageLimit,
  cursor: cursorField(timeIdKey).optional(),
});

// The routes' OpenAPI descriptions (api/route-api.ts): the schemas above and the answers below.
const time = z.iso.datetime({ offset: true });
const deliveryAnswer = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  format: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable().describe("The receiver's last HTTP status"),
  lastError: z.string().nullable(),
  nextAttemptAt: time.nullable().describe('Only while pending'),
  createdAt: time,
  deliveredAt: time.nullable(),
});
const endpointAnswer = z.strictObject({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  format: z.enum(['standard', 'set']),
  createdAt: time,
  createdBy: z.string().nullable(),
});
const api = {
  list: {
    summary: 'Webhook endpoints, each with its latest delivery and latest failure',
    responses: {
      200: z.strictObject({
        webhooks: z.array(
          endpointAnswer.extend({
            lastDelivery: deliveryAnswer.nullable(),
            lastFailure: deliveryAnswer.nullable(),
          }),
        ),
      }),
    },
  },
  create: {
    summary: 'Register a webhook endpoint (a standard one gets its signing secret here, once)',
    body: newEndpointBody,
    responses: { 201: z.strictObject({ webhook: endpointAnswer, secret: z.string().optional() }) },
  },
  delete: { summary: 'Delete a webhook endpoint', params: idParams, responses: { 204: null } },
  deliveries: {
    summary: "An endpoint's deliveries, newest first, one page at a time",
    params: idParams,
    query: deliveriesQuery,
    responses: {
      200: z.strictObject({ deliveries: z.array(deliveryAnswer), nextCursor: z.string().nullable() }),
    },
  },
  retry: {
    summary: 'Send a delivery again (now, with a fresh set of attempts)',
    params: deliveryParams,
    responses: { 202: z.strictObject({ retrying: z.literal(true) }) },
  },
} satisfies Record<string, RouteApi>;

/** What an operator sees of a delivery: its state and the receiver's last answer, not its payload. */
export const deliveryView = (d: DeliveryRecord): z.infer<typeof deliveryAnswer> => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  format: d.format,
  status: d.status,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
  createdAt: new Date(d.createdAt).toISOString(),
  deliveredAt: iso(d.deliveredAt),
});

/**
 * Webhook endpoints for operators (role `admin`, as the rest of /admin/api): register one (its
 * secret is in the creation answer and nowhere else), list them with their latest delivery and
 * failure, delete one, page through its deliveries, and replay one.
 */
export function adminWebhookRoutes(tessera: Tessera) {
  const { webhooks } = tessera.events;
  const actorOf = (request: FastifyRequest): Actor => ({
    actorId: request.auth.userId,
    client: clientContext(request),
  });

  return async (app: FastifyInstance) => {
    app.addHook('preHandler', async (request, reply) => {
      await establishCaller(request, reply);
      const admin = await tessera.accounts.findById(request.auth.userId);
      if (!admin || admin.lockedAt !== null || !admin.roles.includes('admin')) {
        throw new AuthError('forbidden', 'This needs the admin role.');
      }
    });

    app.get('/admin/api/webhooks', described(api.list), async () => {
      const endpoints = await webhooks.list();
      return {
        webhooks: await Promise.all(
          endpoints.map(async (endpoint) => {
            const { last, lastFailure } = await webhooks.lastOf(endpoint.id);
            return {
              ...endpoint,
              createdAt: iso(endpoint.createdAt),
              lastDelivery: last ? deliveryView(last) : null,
              lastFailure: lastFailure ? deliveryView(lastFailure) : null,
            };
          }),
        ),
      };
    });

    // The secret is in this answer and nowhere else (stored sealed, never shown again).
    app.post('/admin/api/webhooks', described(api.create), async (request, reply) => {
      const body = parseInput(newEndpointBody, request.body);
      const { endpoint, secret } = await webhooks.create(body, actorOf(request));
      return reply.code(201).send({
        webhook: { ...endpoint, createdAt: iso(endpoint.createdAt) },
        ...(secret && { secret }),
      });
    });

    app.delete('/admin/api/webhooks/:id', described(api.delete), async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await webhooks.delete(id, actorOf(request)))) throw new AuthError('webhook_not_found');
      return reply.code(204).send();
    });

    app.get('/admin/api/webhooks/:id/deliveries', described(api.deliveries), async (request) => {
      const { id } = parseInput(idParams, request.params);
      const query = parseInput(deliveriesQuery, request.query);
      if (!(await webhooks.find(id))) throw new AuthError('webhook_not_found');
      const rows = await webhooks.deliveries(id, {
        limit: query.limit,
        ...(query.status && { status: query.status }),
        ...(query.cursor && { before: { createdAt: query.cursor.t, id: query.cursor.id } }),
      });
      const last = rows.length === query.limit ? rows[rows.length - 1] : undefined;
      return {
        deliveries: rows.map(deliveryView),
        nextCursor: last ? encodeCursor({ t: last.createdAt, id: last.id }) : null,
      };
    });

    app.post(
      '/admin/api/webhooks/:id/deliveries/:deliveryId/retry',
      described(api.retry),
      async (request, reply) => {
        const { id, deliveryId } = parseInput(deliveryParams, request.params);
        if (!(await webhooks.find(id))) throw new AuthError('webhook_not_found');
        if (!(await webhooks.retry(id, deliveryId, actorOf(request))))
          throw new AuthError('delivery_not_found');
        return reply.code(202).send({ retrying: true });
      },
    );
  };
}
