import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../core/control.js';
import { deviceLabel } from '../../core/device.js';
import { AuthError } from '../../core/errors.js';
import type { Tessera } from '../../tessera.js';
import { encodeCursor } from '../admin-cursor.js';
import { described } from '../api/route-api.js';
import { clientContext } from '../credentials.js';
import { requireAdmin, requireFreshProof } from '../guards.js';
import { parseInput } from '../validation.js';
import {
  adminApi,
  auditQuery,
  idParams,
  kidParams,
  lockBody,
  rolesBody,
  sessionsQuery,
  usersQuery,
} from './admin-api-schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The control plane's JSON API, for the admin console and for scripts. Every route needs a
 * caller whose *stored* account has the `admin` role and is not locked: the store is read
 * even in jwt mode, so stripping an admin's role stops their control-plane access at once.
 */
export function adminApiRoutes(tessera: Tessera) {
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

  /**
   * When ending a login (lock, revoke, end sessions, log everyone out) takes effect. Session and
   * hybrid modes: the next request. Pure jwt mode cannot revoke an access token: the user may go
   * on using it at apps that verify tokens alone until it expires, this long at most.
   */
  const loginEndEffect = () =>
    tessera.config.mode === 'jwt'
      ? {
          appliesAt: 'access_token_expiry' as const,
          maxDelaySeconds: Math.round(tessera.config.jwt.accessTokenTtlMs / 1000),
        }
      : { appliesAt: 'next_request' as const };

  /** Emails of the audit events' actors and subjects, one read per distinct id. */
  const emailsOf = async (ids: Iterable<string | null>): Promise<Map<string, string>> => {
    const unique = [...new Set(ids)].filter((id): id is string => id !== null);
    const users = await Promise.all(unique.map((id) => tessera.accounts.findById(id)));
    return new Map(users.flatMap((u) => (u ? [[u.id, u.email] as const] : [])));
  };

  // Locking, unlocking, roles and revocations need a proof at most TESSERA_STEP_UP_MAX_AGE old.
  const fresh = { preHandler: requireFreshProof(tessera) };

  return async (app: FastifyInstance) => {
    // The stored admin role, unlocked, and a second factor on this login (guards.ts).
    app.addHook('preHandler', requireAdmin(tessera));

    app.get('/admin/api/sessions', described(adminApi.sessions), async (request) => {
      const query = parseInput(sessionsQuery, request.query);
      const userId = query.user ? await userIdFrom(query.user) : undefined;
      // One indexed read of `limit` sessions with their owners' emails (never every session).
      const { rows, lastKey } = await tessera.sessions.page({
        userId,
        limit: query.limit,
        after: query.cursor && { createdAt: query.cursor.t, id: query.cursor.id },
      });
      return {
        next: lastKey && encodeCursor({ t: lastKey.createdAt, id: lastKey.id }),
        sessions: rows.map(({ session: s, email }) => ({
          id: s.id,
          userId: s.userId,
          email,
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

    app.delete(
      '/admin/api/sessions/:id',
      { ...fresh, ...described(adminApi.revokeSession) },
      async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        if (!(await tessera.control.revokeSession(id, actorOf(request)))) {
          throw new AuthError('session_not_found');
        }
        return reply.code(204).send();
      },
    );

    app.get('/admin/api/users', described(adminApi.users), async (request) => {
      const query = parseInput(usersQuery, request.query);
      const users = await tessera.accounts.page({
        search: query.q,
        limit: query.limit,
        afterEmailKey: query.cursor?.k,
      });
      const verified = await tessera.email.account.verifiedUserIds(users);
      const mfaMethods = await Promise.all(users.map((u) => tessera.mfa.methodsOf(u)));
      const last = users.length === query.limit ? users[users.length - 1] : undefined;
      return {
        next: last ? encodeCursor({ k: last.emailKey }) : null,
        users: users.map((u, index) => ({
          id: u.id,
          email: u.email,
          emailVerified: verified.has(u.id),
          roles: u.roles,
          lockedAt: iso(u.lockedAt),
          lockReason: u.lockReason,
          createdAt: iso(u.createdAt),
          // The second factors the user has (names only, never a secret).
          mfa: mfaMethods[index] ?? [],
        })),
      };
    });

    app.delete(
      '/admin/api/users/:id/sessions',
      { ...fresh, ...described(adminApi.endUserSessions) },
      async (request) => {
        const { id } = parseInput(idParams, request.params);
        return {
          revoked: await tessera.control.revokeUserSessions(await userIdFrom(id), actorOf(request)),
          ...loginEndEffect(),
        };
      },
    );

    app.post('/admin/api/users/:id/lock', { ...fresh, ...described(adminApi.lock) }, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const { reason } = parseInput(lockBody, request.body);
      const userId = await userIdFrom(id);
      if (userId === request.auth.userId) {
        throw new AuthError('cannot_lock_self');
      }
      return { ...(await tessera.control.lockUser(userId, reason, actorOf(request))), ...loginEndEffect() };
    });

    app.post(
      '/admin/api/users/:id/unlock',
      { ...fresh, ...described(adminApi.unlock) },
      async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        await tessera.control.unlockUser(await userIdFrom(id), actorOf(request));
        return reply.code(204).send();
      },
    );

    app.put('/admin/api/users/:id/roles', { ...fresh, ...described(adminApi.roles) }, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const { roles } = parseInput(rolesBody, request.body);
      const effect = await tessera.control.setRoles(await userIdFrom(id), roles, actorOf(request));
      return { roles: [...new Set(roles)], ...effect };
    });

    // A user who lost their authenticator: every factor removed and every login ended (audited).
    app.post(
      '/admin/api/users/:id/mfa/reset',
      { ...fresh, ...described(adminApi.mfaReset) },
      async (request) => {
        const { id } = parseInput(idParams, request.params);
        return {
          ...(await tessera.mfa.resetByOperator(await userIdFrom(id), actorOf(request))),
          ...loginEndEffect(),
        };
      },
    );

    app.post(
      '/admin/api/logout-everyone',
      { ...fresh, ...described(adminApi.logoutEveryone) },
      async (request) => ({
        revoked: await tessera.control.logoutEveryone(actorOf(request)),
        ...loginEndEffect(),
      }),
    );

    // What the console needs to say how long things take: the mode and its timeouts.
    app.get('/admin/api/settings', described(adminApi.settings), async () => ({
      mode: tessera.config.mode,
      sessionIdleTimeoutSeconds: Math.round(tessera.config.session.idleTimeoutMs / 1000),
      sessionAbsoluteTimeoutSeconds: Math.round(tessera.config.session.absoluteTimeoutMs / 1000),
      accessTokenTtlSeconds:
        tessera.config.mode === 'session' ? null : Math.round(tessera.config.jwt.accessTokenTtlMs / 1000),
      loginEnd: loginEndEffect(),
    }));

    app.get('/admin/api/audit', described(adminApi.audit), async (request) => {
      const query = parseInput(auditQuery, request.query);
      const userId = query.user ? await userIdFrom(query.user) : undefined;
      const events = await tessera.audit.list({
        userId,
        type: query.type,
        limit: query.limit,
        before: query.cursor && { at: query.cursor.t, id: query.cursor.id },
      });
      const emails = await emailsOf(events.flatMap((e) => [e.actorId, e.userId]));
      const last = events.length === query.limit ? events[events.length - 1] : undefined;
      return {
        next: last ? encodeCursor({ t: last.at, id: last.id }) : null,
        events: events.map((e) => ({
          ...e,
          at: iso(e.at),
          actorEmail: e.actorId === null ? null : (emails.get(e.actorId) ?? null),
          userEmail: e.userId === null ? null : (emails.get(e.userId) ?? null),
          detail: JSON.parse(e.detail) as unknown,
        })),
      };
    });

    app.get('/admin/api/keys', described(adminApi.keys), async () => ({
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

    app.post('/admin/api/keys/rotate', described(adminApi.rotateKeys), async (request) => {
      const result = await app.loginMode.signingKeys().rotate();
      await tessera.audit.record('key.rotated', { ...actorOf(request), detail: result });
      return result;
    });

    app.delete('/admin/api/keys/:kid', described(adminApi.revokeKey), async (request, reply) => {
      const { kid } = parseInput(kidParams, request.params);
      if (!(await app.loginMode.signingKeys().revoke(kid))) throw new AuthError('key_not_found');
      await tessera.audit.record('key.revoked', { ...actorOf(request), detail: { kid } });
      return reply.code(204).send();
    });
  };
}
