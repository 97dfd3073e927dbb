import { deviceLabel } from '../core/device.js';
import type { TokenPair } from '../core/token-logins.js';
import type { SessionRecord, UserRecord } from '../store/ports/index.js';
import type { Tessera } from '../tessera.js';
import type { Authenticated } from './credentials.js';

/** What clients see of records: ISO times, no hashes, no internal fields. */

// GET /auth/session formats the same instants on every request of a login (created, absolute
// expiry, idle expiry: that one moves once a minute at most), so a small memo spares a Date and
// its formatting per request. Cleared whole when full: no eviction bookkeeping.
const isoMemo = new Map<number, string>();
const ISO_MEMO_SIZE = 4096;
const iso = (ms: number) => {
  let text = isoMemo.get(ms);
  if (text === undefined) {
    if (isoMemo.size >= ISO_MEMO_SIZE) isoMemo.clear();
    text = new Date(ms).toISOString();
    isoMemo.set(ms, text);
  }
  return text;
};

export const userView = (user: UserRecord) => ({ id: user.id, email: user.email, roles: user.roles });

export const sessionView = (tessera: Tessera, session: SessionRecord) => ({
  id: session.id,
  mode: session.mode,
  createdAt: iso(session.createdAt),
  /** When the login ends if unused: the earlier of idle and absolute expiry. */
  expiresAt: iso(tessera.sessions.expiresAt(session)),
  absoluteExpiresAt: iso(session.expiresAt),
  /** How and when the user last proved who they are on this login (RFC 8176 amr). */
  authTime: iso(session.authTime),
  amr: session.amr,
  acr: session.acr,
});

/**
 * GET /auth/session. In session mode the store was read anyway, so the whole user is shown.
 * In jwt mode nothing but the access token was checked (that is the point of the mode): roles,
 * login and expiry are what the token says, and the email, which the token never carries, is
 * the store's (`email`: UserEmails, read at most once per user and node).
 */
export const callerView = (tessera: Tessera, auth: Authenticated, email?: string) =>
  auth.session && auth.user
    ? { user: userView(auth.user), session: sessionView(tessera, auth.session) }
    : {
        user: { id: auth.userId, email, roles: auth.roles },
        session: {
          id: auth.sessionId,
          mode: tessera.mode,
          expiresAt: iso(auth.expiresAt),
          authTime: iso(auth.authTime),
          amr: auth.amr,
          acr: auth.acr,
        },
      };

/** The body a bearer client gets its tokens in (RFC 6749 5.1 names). */
export const tokenPairView = (tessera: Tessera, pair: TokenPair) => ({
  tokenType: 'Bearer' as const,
  accessToken: pair.accessToken,
  expiresIn: Math.max(0, Math.floor((pair.accessTokenExpiresAt - tessera.runtime.now()) / 1000)),
  refreshToken: pair.refreshToken,
});

export const deviceView = (tessera: Tessera, session: SessionRecord, currentId: string) => ({
  id: session.id,
  current: session.id === currentId,
  device: deviceLabel(session.userAgent),
  ip: session.ip,
  createdAt: iso(session.createdAt),
  lastSeenAt: iso(session.lastSeenAt),
  expiresAt: iso(tessera.sessions.expiresAt(session)),
});
