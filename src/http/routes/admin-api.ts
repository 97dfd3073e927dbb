import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../core/control.js';
import { deviceLabel } from '../../core/device.js';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import { clientContext, requireAuth } from '../credentials.js';
import { parseInput, text } from '../validation.js';

const idParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });
const kidParams = z.strictObject({ kid: text(64).pipe(z.string().min(1)) });
const lockBody = z.strictObject({ reason: text(500).pipe(z.string().trim().min(1)) });
const rolesBody = z.strictObject({ roles: z.array(text(64)).max(32) });
const sessionsQuery = z.strictObject({
  user: text(320).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
const auditQuery = z.strictObject({
  user: text(320).optional(),
  type: text(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The control plane's JSON API, for the admin console and for scripts. Every route needs a
 * caller whose *stored* account has the `admin` role and is not locked: the store is read
 * even in jwt mode, so stripping an admin's role stops their control-plane access at once.
 */
export function adminApiRoutes(tessera: Tessera) {
  const requireCaller = requireAuth();

  const actorOf = (request: FastifyRequest): Actor => ({
    actorId: request.auth.userId,
    client: clientContext(request),
  });

  /** A user by id or email, as the admin typed it. */
  const userIdFrom = async (idOrEmail: string): Promise<string> => {
    const user = await tessera.accounts.findByIdOrEmail(idOrEmail);
    if (!user) throw new AuthError('user_not_found');
    return user.id;
  };

  return async (app: FastifyInstance) => {
    app.addHook('preHandler', async (request, reply) => {
      await requireCaller(request, reply);
      const admin = await tessera.accounts.findById(request.auth.userId);
      if (!admin || admin.lockedAt !== null || !admin.roles.includes('admin')) {
        throw new AuthError('forbidden');
      }
    });

    app.get('/admin/api/sessions', async (request) => {
      const query = parseInput(sessionsQuery, request.query);
      const userId = query.user ? await userIdFrom(query.user) : undefined;
      const sessions = userId ? await tessera.sessions.listOfUser(userId) : await tessera.sessions.listAll();
      const emails = new Map((await tessera.accounts.list()).map((u) => [u.id, u.email]));
      return {
        sessions: sessions.slice(0, query.limit).map((s) => ({
          id: s.id,
          userId: s.userId,
          email: emails.get(s.userId) ?? null,
          mode: s.mode,
          device: deviceLabel(s.userAgent),
          ip: s.ip,
          createdAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          expiresAt: iso(tessera.sessions.expiresAt(s)),
          current: s.id === request.auth.sessionId,
        })),
      };
    });

    app.delete('/admin/api/sessions/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      if (!(await tessera.control.revokeSession(id, actorOf(request)))) {
        throw new AuthError('session_not_found');
      }
      return reply.code(204).send();
    });

    app.get('/admin/api/users', async () => {
      const users = await tessera.accounts.list();
      const verified = await tessera.email.account.verifiedUserIds(users);
      return {
        users: users.map((u) => ({
          id: u.id,
          email: u.email,
          emailVerified: verified.has(u.id),
          roles: u.roles,
          lockedAt: iso(u.lockedAt),
          lockReason: u.lockReason,
          createdAt: iso(u.createdAt),
        })),
      };
    });

    app.delete('/admin/api/users/:id/sessions', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { revoked: await tessera.control.revokeUserSessions(await userIdFrom(id), actorOf(request)) };
    });

    app.post('/admin/api/users/:id/lock', async (request) => {
      const { id } = parseInput(idParams, request.params);
      const { reason } = parseInput(lockBody, request.body);
      const userId = await userIdFrom(id);
      if (userId === request.auth.userId) {
        throw new AuthError('cannot_lock_self');
      }
      return tessera.control.lockUser(userId, reason, actorOf(request));
    });

    app.post('/admin/api/users/:id/unlock', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await tessera.control.unlockUser(await userIdFrom(id), actorOf(request));
      return reply.code(204).send();
    });

    app.put('/admin/api/users/:id/roles', async (request) => {
      const { id } = parseInput(idParams, request.params);
      const { roles } = parseInput(rolesBody, request.body);
      const effect = await tessera.control.setRoles(await userIdFrom(id), roles, actorOf(request));
      return { roles: [...new Set(roles)], ...effect };
    });

    app.post('/admin/api/logout-everyone', async (request) => ({
      revoked: await tessera.control.logoutEveryone(actorOf(request)),
    }));

    app.get('/admin/api/audit', async (request) => {
      const query = parseInput(auditQuery, request.query);
      const userId = query.user ? await userIdFrom(query.user) : undefined;
      const events = await tessera.audit.list({ userId, type: query.type, limit: query.limit });
      return {
        events: events.map((e) => ({ ...e, at: iso(e.at), detail: JSON.parse(e.detail) as unknown })),
      };
    });

    app.get('/admin/api/keys', async () => ({
      keys: app.loginMode
        .signingKeys()
        .list()
        .map((k) => ({
          kid: k.kid,
          alg: k.alg,
          status: k.status,
          createdAt: iso(k.createdAt),
          retiredAt: iso(k.retiredAt),
        })),
    }));

    app.post('/admin/api/keys/rotate', async (request) => {
      const result = await app.loginMode.signingKeys().rotate();
      await tessera.audit.record('key.rotated', { ...actorOf(request), detail: result });
      return result;
    });

    app.delete('/admin/api/keys/:kid', async (request, reply) => {
      const { kid } = parseInput(kidParams, request.params);
      if (!(await app.loginMode.signingKeys().revoke(kid))) throw new AuthError('key_not_found');
      await tessera.audit.record('key.revoked', { ...actorOf(request), detail: { kid } });
      return reply.code(204).send();
    });
  };
}
