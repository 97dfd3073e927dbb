import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import { clearSessionCookie, requireSession } from '../credentials.js';
import { parseInput } from '../validation.js';
import { deviceView } from '../views.js';

const sessionParams = z.strictObject({ id: z.string().min(1).max(64) });

/** A user's own devices: list them, end one. */
export function sessionRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireSession(tessera));

    app.get('/auth/sessions', async (request) => {
      const { user, session } = request.auth;
      const sessions = await tessera.sessions.listOfUser(user.id);
      return { sessions: sessions.map((s) => deviceView(tessera, s, session.id)) };
    });

    app.delete('/auth/sessions/:id', async (request, reply) => {
      const { id } = parseInput(sessionParams, request.params);
      const { user, session } = request.auth;
      // Another user's session id gets the same 404 as a missing one: ids are not an oracle.
      const target = (await tessera.sessions.listOfUser(user.id)).find((s) => s.id === id);
      if (!target) throw new AuthError('session_not_found', 404, 'You have no session with this id.');
      await tessera.sessions.revoke(target.id);
      if (target.id === session.id) clearSessionCookie(request, reply);
      return reply.code(204).send();
    });
  };
}
