import type { RevocationRecord } from './ports/index.js';

/**
 * What the buses send: the RevocationRecord as JSON. It names a login, a user or everyone and
 * two times; never a token, a hash or anything secret.
 */
export function encodeRevocation(record: RevocationRecord): string {
  const { seq, kind, subject, at, expiresAt } = record;
  return JSON.stringify({ seq, kind, subject, at, expiresAt });
}

const KINDS = new Set<RevocationRecord['kind']>(['session', 'user', 'all']);
const isTime = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** The record in a message, or undefined for anything else (then the receiver catches up from the log). */
export function decodeRevocation(message: string): RevocationRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, kind, subject, at, expiresAt } = value as Record<string, unknown>;
  if (!isTime(seq) || seq < 1 || !KINDS.has(kind as RevocationRecord['kind'])) return undefined;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 200) return undefined;
  if (!isTime(at) || !isTime(expiresAt)) return undefined;
  return { seq, kind: kind as RevocationRecord['kind'], subject, at, expiresAt };
}
