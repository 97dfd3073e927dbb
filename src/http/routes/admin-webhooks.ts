import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../core/control.js';
import { AuthError } from '../../core/errors.js';
import type { DeliveryRecord } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { cursorField, encodeCursor, pageLimit, timeIdKey } from '../admin-cursor.js';
import { clientContext, requireAuth } from '../credentials.js';
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

/** What an operator sees of a delivery: its state and the receiver's last answer, not its payload. */
export const deliveryView = (d: DeliveryRecord) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  format: d.format,
  status: d.status,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
  createdAt: iso(d.createdAt),
  deliveredAt: iso(d.deliveredAt),
});

/**
 * Webhook endpoints for operators (role `admin`, as the rest of /admin/api): register one (its
 * secret is in the creation answer and nowhere else), list them with their latest delivery and
 * failure, delete one, page through its deliveries, and replay one.
 */
export function adminWebhookRoutes(tessera: Tessera) {
  const { webhooks } = tessera.events;
  const requireCaller = requireAuth();
  const actorOf = (request: FastifyRequest): Actor => ({
    actorId: request.auth.userId,
    client: clientContext(request),
  });

  return async (app: FastifyInstance) => {
    app.addHook('preHandler', async (request, reply) => {
      await requireCaller(request, reply);
      const admin = await tessera.accounts.findById(request.auth.userId);
      if (!admin || admin.lockedAt !== null || !admin.roles.includes('admin')) {
        throw new AuthError('forbidden', 'This needs the admin role.');
      }
    });

    app.get('/admin/api/webhooks', async () => {
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
    app.post('/admin/api/webhooks', async (request, reply) => {
      const body = parseInput(newEndpointBody, request.body);
      const { endpoint, secret } = await webhooks.create(body, actorOf(request));
      return reply.code(201).send({
        webhook: { ...endpoint, createdAt: iso(endpoint.createdAt) },
        ...(secret && { secret }),
      });
    });

    app.delete('/admin/api/webhooks/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await webhooks.delete(id, actorOf(request)))) throw new AuthError('webhook_not_found');
      return reply.code(204).send();
    });

    app.get('/admin/api/webhooks/:id/deliveries', async (request) => {
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

    app.post('/admin/api/webhooks/:id/deliveries/:deliveryId/retry', async (request, reply) => {
      const { id, deliveryId } = parseInput(deliveryParams, request.params);
      if (!(await webhooks.find(id))) throw new AuthError('webhook_not_found');
      if (!(await webhooks.retry(id, deliveryId, actorOf(request))))
        throw new AuthError('delivery_not_found');
      return reply.code(202).send({ retrying: true });
    });
  };
}
