import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import type { RouteApi } from '../api/route-api.js';
import { deviceAnswer } from '../api/schemas.js';
import { clearCredentialCookies, clientContext, requireAuth } from '../credentials.js';
import { parseInput } from '../validation.js';
import { deviceView } from '../views.js';

const sessionParams = z.strictObject({ id: z.string().min(1).max(64) });

const listApi: RouteApi = {
  summary: "The caller's logins (devices)",
  responses: { 200: z.strictObject({ sessions: z.array(deviceAnswer) }) },
};
const endApi: RouteApi = {
  summary: 'End one of the caller’s logins',
  params: sessionParams,
  responses: { 204: null },
};

/** A user's own devices: list them, end one. */
export function sessionRoutes(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireAuth());

    app.get('/auth/sessions', { config: { api: listApi } }, async (request) => {
      const { userId, sessionId } = request.auth;
      const sessions = await tessera.sessions.listOfUser(userId);
      return { sessions: sessions.map((s) => deviceView(tessera, s, sessionId)) };
    });

    app.delete('/auth/sessions/:id', { config: { api: endApi } }, async (request, reply) => {
      const { id } = parseInput(sessionParams, request.params);
      const { userId, sessionId } = request.auth;
      // Another user's session id gets the same 404 as a missing one: ids are not an oracle.
      const target = (await tessera.sessions.listOfUser(userId)).find((s) => s.id === id);
      if (!target) throw new AuthError('session_not_found', 'You have no session with this id.');
      await tessera.sessions.revoke(target.id, 'device_removed');
      await tessera.audit.record('session.revoked', {
        userId,
        sessionId: target.id,
        client: clientContext(request),
      });
      if (target.id === sessionId) clearCredentialCookies(request, reply);
      return reply.code(204).send();
    });
  };
}
