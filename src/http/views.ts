import { deviceLabel } from '../core/device.js';
import type { SessionRecord, UserRecord } from '../store/ports.js';
import type { Tessera } from '../tessera.js';

/** What clients see of records: ISO times, no hashes, no internal fields. */

const iso = (ms: number) => new Date(ms).toISOString();

export const userView = (user: UserRecord) => ({ id: user.id, email: user.email, roles: user.roles });

export const sessionView = (tessera: Tessera, session: SessionRecord) => ({
  id: session.id,
  mode: tessera.config.mode,
  createdAt: iso(session.createdAt),
  /** When the session ends if unused: the earlier of idle and absolute expiry. */
  expiresAt: iso(tessera.sessions.expiresAt(session)),
  absoluteExpiresAt: iso(session.expiresAt),
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
