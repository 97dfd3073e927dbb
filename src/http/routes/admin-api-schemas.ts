import { z } from 'zod';
import { cursorField, emailKeyPosition, pageLimit, timeIdKey } from '../admin-cursor.js';
import type { RouteApi } from '../api/route-api.js';
import { withLoginEnd } from '../api/schemas.js';
import { text } from '../validation.js';

/**
 * The admin API's request schemas (admin-api.ts parses with them) and its routes' OpenAPI
 * descriptions built from them: one source of truth, kept out of the route file for its length.
 */
export const idParams = z.strictObject({ id: text(64).pipe(z.string().min(1)) });
export const kidParams = z.strictObject({ kid: text(64).pipe(z.string().min(1)) });
export const lockBody = z.strictObject({ reason: text(500).pipe(z.string().trim().min(1)) });
export const rolesBody = z.strictObject({ roles: z.array(text(64)).max(32) });
export const sessionsQuery = z.strictObject({
  user: text(320).optional(),
  limit: pageLimit,
  cursor: cursorField(timeIdKey).optional(),
});
export const usersQuery = z.strictObject({
  q: text(320).optional(),
  limit: pageLimit,
  cursor: cursorField(emailKeyPosition).optional(),
});
export const auditQuery = z.strictObject({
  user: text(320).optional(),
  type: text(64).optional(),
  limit: pageLimit,
  cursor: cursorField(timeIdKey).optional(),
});

// The routes' OpenAPI descriptions (api/route-api.ts): the schemas above and the answers below.
const time = z.iso.datetime({ offset: true });
const page = { next: z.string().nullable() };
export const adminApi = {
  sessions: {
    summary: 'Every login, newest first, one page at a time (optionally one user’s)',
    query: sessionsQuery,
    responses: {
      200: z.strictObject({
        ...page,
        sessions: z.array(
          z.strictObject({
            id: z.string(),
            userId: z.string(),
            email: z.string(),
            mode: z.string(),
            device: z.string(),
            ip: z.string(),
            createdAt: time,
            lastSeenAt: time,
            expiresAt: time,
            current: z.boolean(),
          }),
        ),
      }),
    },
  },
  revokeSession: { summary: 'End one login', params: idParams, responses: { 204: null } },
  users: {
    summary: 'Accounts by email, one page at a time (q: a search)',
    query: usersQuery,
    responses: {
      200: z.strictObject({
        ...page,
        users: z.array(
          z.strictObject({
            id: z.string(),
            email: z.string(),
            emailVerified: z.boolean(),
            roles: z.array(z.string()),
            lockedAt: time.nullable(),
            lockReason: z.string().nullable(),
            createdAt: time,
            /** The second factors the user has (names only, never a secret). */
            mfa: z.array(z.string()),
          }),
        ),
      }),
    },
  },
  endUserSessions: {
    summary: 'End every login of a user (id or email)',
    params: idParams,
    responses: { 200: withLoginEnd({ revoked: z.number().int() }) },
  },
  lock: {
    summary: 'Lock an account: every login and API key ends, logins are refused',
    params: idParams,
    body: lockBody,
    responses: { 200: withLoginEnd({ revokedSessions: z.number().int() }) },
  },
  unlock: { summary: 'Unlock an account', params: idParams, responses: { 204: null } },
  roles: {
    summary: "Set a user's roles (when it takes effect: appliesAt)",
    params: idParams,
    body: rolesBody,
    responses: {
      200: z.union([
        z.strictObject({ roles: z.array(z.string()), appliesAt: z.literal('next_request') }),
        z.strictObject({
          roles: z.array(z.string()),
          appliesAt: z.literal('next_refresh'),
          maxDelaySeconds: z.number().int(),
        }),
      ]),
    },
  },
  mfaReset: {
    summary: "Reset a user's second factors (lost authenticator): factors removed, every login ended",
    params: idParams,
    responses: {
      200: withLoginEnd({
        totp: z.boolean(),
        recoveryCodes: z.number().int(),
        revokedSessions: z.number().int(),
      }),
    },
  },
  logoutEveryone: {
    summary: 'End every login of everyone (the day a key or the database leaks)',
    responses: { 200: withLoginEnd({ revoked: z.number().int() }) },
  },
  settings: {
    summary: 'The mode and its timeouts, for the console',
    responses: {
      200: z.strictObject({
        mode: z.enum(['session', 'jwt', 'hybrid']),
        sessionIdleTimeoutSeconds: z.number().int(),
        sessionAbsoluteTimeoutSeconds: z.number().int(),
        accessTokenTtlSeconds: z.number().int().nullable(),
        loginEnd: withLoginEnd({}),
      }),
    },
  },
  audit: {
    summary: 'Audit events, newest first, one page at a time',
    query: auditQuery,
    responses: {
      200: z.strictObject({
        ...page,
        events: z.array(
          z.strictObject({
            id: z.string(),
            at: time,
            type: z.string(),
            actorId: z.string().nullable(),
            userId: z.string().nullable(),
            sessionId: z.string().nullable(),
            ip: z.string(),
            userAgent: z.string(),
            actorEmail: z.string().nullable(),
            userEmail: z.string().nullable(),
            detail: z.unknown(),
          }),
        ),
      }),
    },
  },
  keys: {
    summary: 'Signing keys (jwt and hybrid modes): next, active, retired',
    responses: {
      200: z.strictObject({
        keys: z.array(
          z.strictObject({
            kid: z.string(),
            alg: z.string(),
            status: z.enum(['next', 'active', 'retired']),
            createdAt: time,
            retiredAt: time.nullable(),
          }),
        ),
      }),
    },
  },
  rotateKeys: {
    summary: 'Rotate: next becomes active, active retires, a new next is made',
    responses: { 200: z.strictObject({ activeKid: z.string(), nextKid: z.string() }) },
  },
  revokeKey: {
    summary: 'Revoke a signing key: tokens it signed stop verifying',
    params: kidParams,
    responses: { 204: null },
  },
} satisfies Record<string, RouteApi>;
