import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import type { RefreshTokenRecord, RefreshTokenStore } from '../store/ports/index.js';
import type { Runtime } from './runtime.js';
import type { Sessions } from './sessions.js';
import { issueToken, parseToken, secretMatches } from './tokens.js';

/** A presented refresh token whose secret matched its stored hash. */
export interface PresentedRefreshToken {
  record: RefreshTokenRecord;
  secret: string;
}

export type ExchangeResult =
  /** The presented token was live: it is retired and `refreshToken` is its one successor. */
  | { outcome: 'rotated'; refreshToken: string }
  /** A retry within the grace window: the same successor the first exchange produced. */
  | { outcome: 'retried'; refreshToken: string }
  /** A copy of a spent token: the whole family (the login) has been ended. */
  | { outcome: 'reused'; retiredAt: number | null };

const SEAL_INFO = 'tessera refresh-token successor v1';

/**
 * Refresh-token rotation and theft detection, for every kind of refresh-token family (jwt and
 * hybrid logins, OAuth delegations): the one place this logic lives.
 *
 * - **Compare-and-set.** Exchanging a token retires it in the same store transaction that
 *   stores its successor (rotateRefreshToken): of any number of racing exchanges exactly one
 *   rotates.
 * - **Grace window, same successor.** The losers of that race (two tabs sharing one cookie, a
 *   client retrying after a lost response, 30 requests fired at once) get back the very
 *   successor the winner got, not a new token of their own: at most one token of a family is
 *   ever live. Only hashes are stored, so the successor is kept sealed (AES-256-GCM) under a key
 *   derived (HKDF) from the exchanged token's secret: whoever presents that secret can open it,
 *   a reader of the database cannot. Chosen over minting a sibling per loser because siblings
 *   leave several live tokens until one of them is used, and each loser's sibling would itself
 *   be a new credential to steal.
 * - **No grace without a successor.** A token retired any other way (the siblings a rotation
 *   supersedes, a password change's reissue) has no successor: presenting it is reuse. So is
 *   presenting an exchanged token after the window, or once its successor has been exchanged too.
 * - **Family revocation.** Reuse ends the login (Sessions.revoke: the family's tokens, and in
 *   hybrid mode its access tokens at once); the caller audits it and answers with its error.
 *
 * Lock, logout and logout-all delete the login, and with it every token of the family: a copy
 * presented afterwards is unknown, never exchanged.
 */
export class RefreshRotation {
  constructor(
    private readonly deps: {
      store: RefreshTokenStore;
      sessions: Pick<Sessions, 'revoke'>;
      runtime: Runtime;
      /** TESSERA_REFRESH_REUSE_GRACE_MS: how long an exchanged token's retry gets the same successor. */
      graceMs: number;
    },
  ) {}

  /** The stored token a presented `<id>.<secret>` names, if its secret matches; never throws on bad input. */
  async find(presented: string): Promise<PresentedRefreshToken | undefined> {
    const parsed = parseToken(presented);
    const record = parsed && (await this.deps.store.findRefreshToken(parsed.id));
    if (!parsed || !record || !secretMatches(parsed.secret, record.secretHash)) return undefined;
    return { record, secret: parsed.secret };
  }

  /**
   * The first token of a new family, not yet stored: for a caller that stores it in one
   * transaction with the family's login (an OAuth code's redemption).
   */
  firstOfFamily(sessionId: string): { token: string; record: RefreshTokenRecord } {
    return this.#newToken(sessionId);
  }

  /** The first token of a new family. */
  async issue(sessionId: string): Promise<string> {
    const next = this.#newToken(sessionId);
    await this.deps.store.createRefreshToken(next.record);
    return next.token;
  }

  /** Rotate, or answer a retry within the grace window, or detect reuse and end the family. */
  async exchange(presented: PresentedRefreshToken): Promise<ExchangeResult> {
    const { store, sessions } = this.deps;
    const { record, secret } = presented;
    const next = this.#newToken(record.sessionId);
    const sealed = this.#seal(secret, record.id, next.token);
    if (await store.rotateRefreshToken(record.id, next.record, sealed)) {
      return { outcome: 'rotated', refreshToken: next.token };
    }
    // Re-read: it may have been live when first read and rotated since by a racing request.
    const current = await store.findRefreshToken(record.id);
    const successor = current && (await this.#liveSuccessor(current, secret));
    if (successor) return { outcome: 'retried', refreshToken: successor };
    await sessions.revoke(record.sessionId, 'refresh_reuse');
    return { outcome: 'reused', retiredAt: current?.retiredAt ?? null };
  }

  /**
   * A new token for a family that goes on under new credentials (a password change); every
   * other token of it is retired with no grace, so a copy presented later ends the family.
   */
  async reissue(sessionId: string): Promise<string> {
    const next = this.#newToken(sessionId);
    await this.deps.store.createRefreshToken(next.record);
    await this.deps.store.retireOtherRefreshTokens(sessionId, next.record.id, this.deps.runtime.now());
    return next.token;
  }

  /** The successor an exchanged token was rotated to, if within the window and still the live token. */
  async #liveSuccessor(exchanged: RefreshTokenRecord, secret: string): Promise<string | undefined> {
    const { retiredAt, successor } = exchanged;
    if (retiredAt === null || successor === null) return undefined;
    if (this.deps.runtime.now() - retiredAt > this.deps.graceMs) return undefined;
    const token = this.#open(secret, exchanged.id, successor);
    const next = token === undefined ? undefined : await this.find(token);
    return next && next.record.retiredAt === null && next.record.sessionId === exchanged.sessionId
      ? token
      : undefined;
  }

  #newToken(sessionId: string): { token: string; record: RefreshTokenRecord } {
    const { id, token, secretHash } = issueToken(this.deps.runtime);
    const createdAt = this.deps.runtime.now();
    return { token, record: { id, sessionId, secretHash, createdAt, retiredAt: null, successor: null } };
  }

  /** `v1.<iv>.<ciphertext+tag>`: the successor under a key only the exchanged token's holder can derive. */
  #seal(secret: string, tokenId: string, successor: string): string {
    const iv = this.deps.runtime.randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', sealKey(secret, tokenId), iv).setAAD(Buffer.from(tokenId));
    const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  #open(secret: string, tokenId: string, sealed: string): string | undefined {
    const [version, iv, body] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || body === undefined) return undefined;
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length <= 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', sealKey(secret, tokenId), Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(tokenId))
        .setAuthTag(bytes.subarray(-16));
      return Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** HKDF-SHA256 of the token's secret (256 random bits), salted with its id. */
function sealKey(secret: string, tokenId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from(tokenId), SEAL_INFO, 32));
}
