import { hash, timingSafeEqual } from 'node:crypto';
import type { Runtime } from './runtime.js';

/**
 * Opaque credentials (session tokens, later refresh tokens and API keys) have Lucia's
 * `<id>.<secret>` shape:
 * - the id (128 random bits) is the lookup key, so the database index never sees the secret
 *   and a timing difference in the lookup reveals nothing about it;
 * - the secret (256 random bits, well above the 128-bit floor) is stored only as SHA-256.
 *   A fast hash is right here: the input is uniformly random, so there is nothing to
 *   brute-force, unlike a password;
 * - the stored hash is compared in constant time.
 */
const ID_BYTES = 16;
const SECRET_BYTES = 32;
const base64urlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);
const TOKEN_SHAPE = new RegExp(
  `^([A-Za-z0-9_-]{${base64urlLength(ID_BYTES)}})\\.([A-Za-z0-9_-]{${base64urlLength(SECRET_BYTES)}})$`,
);

export interface IssuedToken {
  id: string;
  /** The whole `<id>.<secret>` string: given to the client once, never stored. */
  token: string;
  /** SHA-256 of the secret, hex: the only form that is stored. */
  secretHash: string;
}

export function newRandomId(runtime: Runtime): string {
  return runtime.randomBytes(ID_BYTES).toString('base64url');
}

export function issueToken(runtime: Runtime, id = newRandomId(runtime)): IssuedToken {
  const secret = runtime.randomBytes(SECRET_BYTES).toString('base64url');
  return { id, token: `${id}.${secret}`, secretHash: hashSecret(secret) };
}

// crypto.hash is one-shot: no Hash object per call, and this runs on every authenticated request.
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Splits a presented token; anything not exactly of the issued shape is `undefined`. */
export function parseToken(presented: string): { id: string; secret: string } | undefined {
  const match = TOKEN_SHAPE.exec(presented);
  if (!match) return undefined;
  return { id: match[1] as string, secret: match[2] as string };
}

/** Constant-time check of a presented secret against the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = hash('sha256', secret, 'buffer');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
