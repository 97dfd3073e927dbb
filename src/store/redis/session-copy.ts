import type { OAuthDelegation, SessionRecord } from '../ports/index.js';

/** A session's copy in Redis: one hash per session (its id is in the key), every field a string. */

type Arg = string | number;

/** The hash of a session (its id is in the key), as flat field/value arguments. */
export function toHash(session: SessionRecord): Arg[] {
  return [
    'userId',
    session.userId,
    'mode',
    session.mode,
    'secretHash',
    session.secretHash,
    'createdAt',
    session.createdAt,
    'lastSeenAt',
    session.lastSeenAt,
    'expiresAt',
    session.expiresAt,
    'ip',
    session.ip,
    'userAgent',
    session.userAgent,
    'authTime',
    session.authTime,
    'amr',
    JSON.stringify(session.amr),
    'acr',
    session.acr,
    ...(session.oauth ? ['oauth', JSON.stringify(session.oauth)] : []),
  ];
}

const MODES = new Set<SessionRecord['mode']>(['session', 'jwt', 'hybrid', 'oauth']);

/** A copy read back; undefined for a miss (or a copy that does not parse, which SQL then answers). */
export function fromHash(id: string, hash: Record<string, string>): SessionRecord | undefined {
  const { userId, mode, secretHash, createdAt, lastSeenAt, expiresAt, ip, userAgent } = hash;
  if (userId === undefined || secretHash === undefined || ip === undefined || userAgent === undefined) {
    return undefined;
  }
  if (!MODES.has(mode as SessionRecord['mode'])) return undefined;
  const times = [createdAt, lastSeenAt, expiresAt, hash.authTime].map(Number);
  if (!times.every(Number.isSafeInteger)) return undefined;
  const [created, lastSeen, expires, authTime] = times as [number, number, number, number];
  // A copy written before migration 0011 has no context: SQL answers for it.
  const amr = hash.amr === undefined ? undefined : parseAmr(hash.amr);
  if (amr === undefined || hash.acr === undefined) return undefined;
  const oauth = hash.oauth === undefined ? undefined : parseDelegation(hash.oauth);
  if ((mode === 'oauth') !== (oauth !== undefined)) return undefined;
  return {
    id,
    userId,
    mode: mode as SessionRecord['mode'],
    secretHash,
    createdAt: created,
    lastSeenAt: lastSeen,
    expiresAt: expires,
    ip,
    userAgent,
    authTime,
    amr,
    acr: hash.acr,
    ...(oauth ? { oauth } : {}),
  };
}

function parseAmr(json: string): string[] | undefined {
  try {
    const amr: unknown = JSON.parse(json);
    return Array.isArray(amr) && amr.every((v) => typeof v === 'string') ? amr : undefined;
  } catch {
    return undefined;
  }
}

/** An OAuth login's delegation (client, scopes, audience) as stored in its copy. */
function parseDelegation(json: string): OAuthDelegation | undefined {
  try {
    const { clientId, scopes, audience } = JSON.parse(json) as Partial<OAuthDelegation>;
    if (typeof clientId !== 'string' || typeof audience !== 'string') return undefined;
    if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) return undefined;
    return { clientId, scopes: [...scopes], audience };
  } catch {
    return undefined;
  }
}
