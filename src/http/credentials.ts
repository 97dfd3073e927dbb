import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_USER_AGENT_LENGTH } from '../core/device.js';
import { unauthenticated } from '../core/errors.js';
import type { ClientContext } from '../core/sessions.js';
import type { SessionRecord, UserRecord } from '../store/ports.js';
import type { Tessera } from '../tessera.js';

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, has Path=/ and no Domain,
 * so neither a sibling subdomain nor a plain-HTTP page can plant or overwrite it.
 */
export const SESSION_COOKIE = '__Host-tessera_session';

// No Max-Age: the cookie ends with the browser session, and the server enforces the real
// idle and absolute limits either way.
const SESSION_COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } as const;

export interface Authenticated {
  user: UserRecord;
  session: SessionRecord;
  /** How the credential arrived; responses answer the same way. */
  transport: 'cookie' | 'bearer';
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated;
  }
}

/**
 * The presented session token: `Authorization: Bearer` (non-browser clients) or the cookie.
 * Never a URL query parameter: URLs end up in logs, history and Referer headers.
 */
export function presentedToken(
  request: FastifyRequest,
): { token: string; transport: 'cookie' | 'bearer' } | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    return match ? { token: match[1] as string, transport: 'bearer' } : undefined;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? { token: cookie, transport: 'cookie' } : undefined;
}

/** Resolves the request's session and user, or undefined. */
export async function resolveSession(
  tessera: Tessera,
  request: FastifyRequest,
): Promise<Authenticated | undefined> {
  const presented = presentedToken(request);
  if (!presented) return undefined;
  const session = await tessera.sessions.validate(presented.token);
  if (!session) return undefined;
  const user = await tessera.accounts.findById(session.userId);
  if (!user || user.lockedAt !== null) {
    await tessera.sessions.revoke(session.id);
    return undefined;
  }
  return { user, session, transport: presented.transport };
}

/** preHandler for routes that need a logged-in user: sets `request.auth` or answers 401. */
export function requireSession(tessera: Tessera) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = await resolveSession(tessera, request);
    if (!auth) {
      // Only a refused cookie is cleared; a bad bearer header says nothing about the cookie.
      if (request.headers.authorization === undefined) clearSessionCookie(request, reply);
      throw unauthenticated();
    }
    request.auth = auth;
  };
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, SESSION_COOKIE_OPTIONS);
}

/** Tells the browser to drop a session cookie it sent; silent when it sent none. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  if (request.cookies[SESSION_COOKIE] !== undefined)
    reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
}

export function clientContext(request: FastifyRequest): ClientContext {
  const userAgent = request.headers['user-agent'] ?? '';
  return { ip: request.ip, userAgent: userAgent.slice(0, MAX_USER_AGENT_LENGTH) };
}
