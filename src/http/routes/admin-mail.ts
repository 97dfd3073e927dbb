import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { clientContext } from '../credentials.js';
import { requireAdmin } from '../guards.js';
import { parseInput, text } from '../validation.js';

const outboxQuery = z.strictObject({
  status: z.enum(['pending', 'sent', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const idParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });

const outboxApi: RouteApi = {
  summary: 'The mail outbox: what was sent, what waits, why a message failed (never a body)',
  query: outboxQuery,
  responses: {
    200: z.strictObject({
      mail: z.array(
        z.strictObject({
          id: z.string(),
          kind: z.string(),
          userId: z.string().nullable(),
          to: z.string(),
          subject: z.string(),
          status: z.enum(['pending', 'sent', 'failed']),
          attempts: z.number().int(),
          nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
          lastError: z.string().nullable(),
          createdAt: z.iso.datetime({ offset: true }),
          sentAt: z.iso.datetime({ offset: true }).nullable(),
        }),
      ),
    }),
  },
};
const verificationApi: RouteApi = {
  summary: "Send a user's verification link again (sent: false when already verified)",
  params: idParams,
  responses: { 202: z.strictObject({ sent: z.boolean(), emailVerified: z.boolean() }) },
};

const verificationRoute = { config: { api: verificationApi } };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The outbox for operators (role `admin`, as the rest of /admin/api): what was sent, what is
 * waiting and why a message failed; and resending a user's verification link. Bodies (which
 * held the links) are never shown.
 */
export function adminMailRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    // The stored admin role, unlocked, and a second factor on this login (guards.ts).
    app.addHook('preHandler', requireAdmin(tessera));

    app.get('/admin/api/mail/outbox', { config: { api: outboxApi } }, async (request) => {
      const query = parseInput(outboxQuery, request.query);
      const mail = await tessera.email.stores.outbox.listMail(query);
      return {
        mail: mail.map((m) => ({
          id: m.id,
          kind: m.kind,
          userId: m.userId,
          to: m.to,
          subject: m.subject,
          status: m.status,
          attempts: m.attempts,
          nextAttemptAt: m.status === 'pending' ? iso(m.nextAttemptAt) : null,
          lastError: m.lastError,
          createdAt: iso(m.createdAt),
          sentAt: iso(m.sentAt),
        })),
      };
    });

    app.post('/admin/api/users/:id/verification', verificationRoute, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const user = await tessera.accounts.findById(id);
      if (!user) throw new AuthError('user_not_found', 'There is no user with this id.');
      const sent = await tessera.email.account.sendVerification(user, {
        actorId: request.auth.userId,
        client: clientContext(request),
      });
      return reply.code(202).send({ sent, emailVerified: !sent });
    });
  };
}
