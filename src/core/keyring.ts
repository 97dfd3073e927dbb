import { hkdfSync } from 'node:crypto';
import type { SigningKeyStore, StoredSigningKey } from '../store/ports/index.js';
import type { JwsAlgorithm } from './jwt/algorithms.js';
import type { AccessTokenClaims } from './jwt/claims.js';
import { MAX_CLOCK_SKEW_SECONDS } from './jwt/claims.js';
import type { JsonObject } from './jwt/json.js';
import { type PublicJwk, publicJwks } from './jwt/jwk.js';
import type { SigningKey, VerificationKey } from './jwt/key-objects.js';
import { generateSigningKey, openSigningKey, type SigningKeyRecord, verificationKeyOf } from './jwt/keys.js';
import { verifyOwnJwt } from './jwt/oidc-jwt.js';
import { type AccessTokenSigner, type AccessTokenSubject, createAccessTokenSigner } from './jwt/signer.js';
import { createTypedJwtSigner } from './jwt/typed-signer.js';
import { type AccessTokenVerifier, createAccessTokenVerifier } from './jwt/verifier.js';
import type { Runtime } from './runtime.js';

export interface KeyringOptions {
  kek: Buffer;
  /** The algorithm new keys are bound to. */
  algorithm: JwsAlgorithm;
  allowedAlgorithms: readonly JwsAlgorithm[];
  issuer: string;
  audience: string;
  accessTokenTtlMs: number;
  /** Tolerance for exp/iat/nbf when verifying (default and maximum MAX_CLOCK_SKEW_SECONDS). */
  clockSkewSeconds?: number;
}

/**
 * The signing keys, as the store holds them, turned into one signer and one verifier.
 *
 * Lifecycle: `next` is published in the JWKS (and accepted here) before it signs anything,
 * so verifiers that cache the JWKS, and other Tessera nodes that have not reloaded yet, know
 * it when its first token arrives. `rotate` makes next active and active retired; a retired key
 * verifies until every token it signed has expired, then `reload` deletes it. `revoke` deletes
 * a key at once: every token it signed fails, and users recover through their refresh tokens.
 *
 * Several nodes share the store: each reloads it every RELOAD_INTERVAL_MS, so a rotation or a
 * revocation made by one node or by the CLI reaches all of them within that bound.
 */
export const KEY_RELOAD_INTERVAL_MS = 5_000;

export class Keyring {
  #records: StoredSigningKey[] = [];
  #fingerprint = '';
  #lastMissReload = Number.NEGATIVE_INFINITY;
  #signer: AccessTokenSigner | undefined;
  #activeKey: SigningKey | undefined;
  /** Signers of other JWT types (typ → signer) with the active key; rebuilt with it. */
  #typedSigners = new Map<string, (payload: Record<string, unknown>) => string>();
  /** Every usable key's public half: OpenID Connect's id_token_hint is checked against them. */
  #verificationKeys: VerificationKey[] = [];
  #verifier: AccessTokenVerifier | undefined;
  /** OAuth (delegated) tokens: any `aud`, `client_id` required (introspection, revocation). */
  #delegatedVerifier: AccessTokenVerifier | undefined;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly runtime: Runtime,
    private readonly options: KeyringOptions,
  ) {}

  /** Loads the keys, creating the first active and next keys if the store has none. */
  async load(): Promise<void> {
    const records = await this.store.listSigningKeys();
    if (!records.some((k) => k.status === 'active')) await this.#generate('active');
    if (!records.some((k) => k.status === 'next')) await this.#generate('next');
    await this.reload();
  }

  /** Re-reads the store; rebuilds signer and verifier only when the key set changed. */
  async reload(): Promise<void> {
    await this.#pruneExpired();
    const records = await this.store.listSigningKeys();
    const fingerprint = records.map((k) => `${k.kid}:${k.status}`).join(',');
    if (fingerprint === this.#fingerprint) return;
    // A key of an algorithm no longer allowed neither verifies nor is published. To change
    // algorithm: allow both, rotate twice (the new next, then it becomes active), then drop the old.
    const usable = records.filter((k) => this.options.allowedAlgorithms.includes(k.alg));
    const active = usable.filter((k) => k.status === 'active').at(-1);
    if (!active) {
      throw new Error(
        'no active signing key of an allowed algorithm: allow its algorithm in TESSERA_JWT_ALLOWED_ALGORITHMS, or run `tessera keys rotate`',
      );
    }
    this.#activeKey = openSigningKey(toKeyRecord(active), this.options.kek);
    this.#typedSigners.clear();
    this.#verificationKeys = usable.map((k) => verificationKeyOf(toKeyRecord(k), this.options.kek));
    this.#signer = createAccessTokenSigner({
      key: this.#activeKey,
      issuer: this.options.issuer,
      audience: this.options.audience,
      runtime: this.runtime,
      lifetimeSeconds: Math.round(this.options.accessTokenTtlMs / 1000),
    });
    // A fresh verifier also means a fresh cache: nothing verified by a revoked key survives.
    this.#verifier = createAccessTokenVerifier({
      keys: usable.map((k) => verificationKeyOf(toKeyRecord(k), this.options.kek)),
      allowedAlgs: this.options.allowedAlgorithms,
      issuer: this.options.issuer,
      audience: this.options.audience,
      now: this.runtime.now,
      clockSkewSeconds: this.options.clockSkewSeconds,
      maxLifetimeSeconds: Math.round(this.options.accessTokenTtlMs / 1000),
    });
    this.#delegatedVerifier = createAccessTokenVerifier({
      keys: usable.map((k) => verificationKeyOf(toKeyRecord(k), this.options.kek)),
      allowedAlgs: this.options.allowedAlgorithms,
      issuer: this.options.issuer,
      audience: undefined,
      delegated: 'require',
      now: this.runtime.now,
      clockSkewSeconds: this.options.clockSkewSeconds,
      maxLifetimeSeconds: Math.round(this.options.accessTokenTtlMs / 1000),
    });
    this.#records = usable;
    this.#fingerprint = fingerprint;
  }

  sign(subject: AccessTokenSubject) {
    return this.#ready(this.#signer)(subject);
  }

  /**
   * A JWT of another kind (`typ`, e.g. `secevent+jwt`) signed with the active key; the payload as
   * given. Verifiers find the key in the same JWKS.
   */
  signJwt(typ: string, payload: Record<string, unknown>): string {
    const key = this.#ready(this.#activeKey);
    let signer = this.#typedSigners.get(typ);
    if (!signer) {
      signer = createTypedJwtSigner(key, typ);
      this.#typedSigners.set(typ, signer);
    }
    return signer(payload);
  }

  /**
   * A 256-bit secret for `purpose`, derived from the key-encryption key (HKDF-SHA256), the same
   * on every node: OpenID Connect's pairwise subjects and `sid`s. The KEK cannot change without
   * re-sealing every signing key, so these are as stable as the keys themselves.
   */
  deriveSecret(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.options.kek, Buffer.alloc(0), `tessera ${purpose}`, 32));
  }

  /** The algorithm the active key signs with: ID tokens' `alg`. */
  signingAlgorithm(): JwsAlgorithm {
    return this.#ready(this.#activeKey).alg;
  }

  /** The payload of an ID token this keyring signed (signature only: the caller checks claims). */
  verifyOwnIdToken(token: string): JsonObject {
    return verifyOwnJwt(token, this.#verificationKeys, this.options.allowedAlgorithms, 'JWT');
  }

  /** The issuer the keyring's tokens carry (`iss`). */
  get issuer(): string {
    return this.options.issuer;
  }

  /** The claims of a valid access token; throws a 401 JwtError with a stable code otherwise. */
  verify(token: string): AccessTokenClaims {
    return this.#ready(this.#verifier).verify(token);
  }

  /**
   * `verify`, but a token naming a key this node has not loaded yet (another node just created
   * or rotated keys) first makes the keyring re-read the store, at most once a second, instead
   * of waiting for the 5-second reload. Unknown kids cannot force more reads than that.
   */
  verifyFresh(token: string): AccessTokenClaims | Promise<AccessTokenClaims> {
    // Synchronous unless a reload is due: the per-request path then allocates no promise.
    try {
      return this.verify(token);
    } catch (error) {
      const now = this.runtime.now();
      if ((error as { code?: string }).code !== 'token_unknown_key' || now - this.#lastMissReload < 1_000)
        throw error;
      this.#lastMissReload = now;
      return this.reload().then(() => this.verify(token));
    }
  }

  /**
   * The claims of a valid OAuth access token (it has `client_id`; any `aud`: the caller checks
   * it); throws a 401 JwtError otherwise. First-party tokens are refused here, and these there.
   */
  verifyDelegated(token: string): AccessTokenClaims {
    return this.#ready(this.#delegatedVerifier).verify(token);
  }

  /** Public JWKs of every key that may have signed (or is about to sign) a live token. */
  jwks(): { keys: PublicJwk[] } {
    return publicJwks(this.#records.map(toKeyRecord));
  }

  list(): readonly StoredSigningKey[] {
    return this.#records;
  }

  /** next → active, active → retired, and a new next. */
  async rotate(): Promise<{ activeKid: string; nextKid: string }> {
    const now = this.runtime.now();
    const records = await this.store.listSigningKeys();
    const next = records.find((k) => k.status === 'next') ?? (await this.#generate('next'));
    for (const key of records.filter((k) => k.status === 'active')) {
      await this.store.updateSigningKeyStatus(key.kid, 'retired', now);
    }
    await this.store.updateSigningKeyStatus(next.kid, 'active', null);
    const newNext = await this.#generate('next');
    await this.reload();
    return { activeKid: next.kid, nextKid: newNext.kid };
  }

  /** Deletes a key now (its private part is compromised); false when there is no such key. */
  async revoke(kid: string): Promise<boolean> {
    const records = await this.store.listSigningKeys();
    const key = records.find((k) => k.kid === kid);
    if (!key || !(await this.store.deleteSigningKey(kid))) return false;
    if (key.status === 'active') {
      const next = records.find((k) => k.status === 'next');
      if (next) await this.store.updateSigningKeyStatus(next.kid, 'active', null);
      else await this.#generate('active');
      await this.#generate('next');
    } else if (key.status === 'next') {
      await this.#generate('next');
    }
    await this.reload();
    return true;
  }

  /** Retired keys whose last possible token has expired (lifetime + clock skew) are deleted. */
  async #pruneExpired(): Promise<void> {
    const horizon = this.runtime.now() - this.options.accessTokenTtlMs - MAX_CLOCK_SKEW_SECONDS * 1000;
    for (const key of await this.store.listSigningKeys()) {
      if (key.status === 'retired' && key.retiredAt !== null && key.retiredAt < horizon) {
        await this.store.deleteSigningKey(key.kid);
      }
    }
  }

  async #generate(status: 'active' | 'next'): Promise<StoredSigningKey> {
    const record = await generateSigningKey(this.options.algorithm, {
      kek: this.options.kek,
      runtime: this.runtime,
      status,
    });
    const stored = fromKeyRecord(record);
    await this.store.createSigningKey(stored);
    return stored;
  }

  #ready<T>(value: T | undefined): T {
    if (!value) throw new Error('the keyring is not loaded');
    return value;
  }
}

const toKeyRecord = (k: StoredSigningKey): SigningKeyRecord => ({
  kid: k.kid,
  alg: k.alg,
  status: k.status,
  createdAt: k.createdAt,
  ...(k.publicJwk ? { publicJwk: JSON.parse(k.publicJwk) as PublicJwk } : {}),
  privateKeyEncrypted: k.privateKeyEncrypted,
});

const fromKeyRecord = (k: SigningKeyRecord): StoredSigningKey => ({
  kid: k.kid,
  alg: k.alg,
  status: k.status,
  createdAt: k.createdAt,
  retiredAt: null,
  publicJwk: k.publicJwk ? JSON.stringify(k.publicJwk) : null,
  privateKeyEncrypted: k.privateKeyEncrypted,
});
