import type { ApiKeyRecord, ApiKeyStore, UserRecord } from '../../store/ports/index.js';
import type { Accounts } from '../accounts.js';
import type { Audit } from '../audit.js';
import type { Actor } from '../control.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { issueToken, parseToken, secretMatches } from '../tokens.js';
import type { Introspection } from './presented-tokens.js';
import { formatScope } from './scopes.js';

/**
 * API keys: long-lived credentials a user makes for scripts and services they own.
 * `tsr_<id>.<secret>`: the prefix lets secret scanners (and people) recognise a leaked key; the
 * rest is Tessera's usual opaque token (128-bit id for lookup, 256-bit secret stored only as
 * SHA-256, compared in constant time). Shown once, scoped (exactly the scopes asked for),
 * always expiring, made only with a fresh proof of the password, revocable by the user and the
 * admin. A key belongs to its user, not to a login: whatever ends every login of the user
 * (logout-all, password change, lock, admin revocation, log everyone out) revokes the user's
 * keys for good (Sessions.endUserLogins); an unlock does not revive them.
 */
export const API_KEY_PREFIX = 'tsr_';
const DAY_MS = 86_400_000;
/** Default 90 days, at most a year: a forgotten key must not work for ever. */
export const DEFAULT_API_KEY_TTL_MS = 90 * DAY_MS;
export const MAX_API_KEY_TTL_MS = 365 * DAY_MS;
const MIN_API_KEY_TTL_MS = 60_000;
/** Live keys per user: enough for every script, few enough to review. */
const MAX_LIVE_KEYS = 50;
/** Like sliding renewal: a busy key costs a read per use, a write at most once a minute. */
const TOUCH_INTERVAL_MS = 60_000;

export interface NewApiKey {
  name: string;
  scopes: string[];
  /** Default DEFAULT_API_KEY_TTL_MS. */
  expiresInMs?: number;
}

const badKey = (message: string) => new AuthError('invalid_api_key_request', message);

export class ApiKeys {
  constructor(
    private readonly deps: {
      store: ApiKeyStore;
      accounts: Accounts;
      audit: Audit;
      runtime: Runtime;
      scopes: Readonly<Record<string, string>>;
    },
  ) {}

  /** Creates a key; `key` is the only time the secret exists outside the caller's hands. */
  async create(
    userId: string,
    input: NewApiKey,
    actor: Actor,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw badKey('The name must be 1-100 characters.');
    const scopes = [...new Set(input.scopes)];
    const unknown = scopes.find((s) => !Object.hasOwn(this.deps.scopes, s));
    if (scopes.length === 0 || unknown !== undefined) {
      throw badKey(
        unknown === undefined
          ? 'Give the key at least one scope.'
          : `There is no scope named ${JSON.stringify(unknown)}.`,
      );
    }
    const ttl = input.expiresInMs ?? DEFAULT_API_KEY_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < MIN_API_KEY_TTL_MS || ttl > MAX_API_KEY_TTL_MS) {
      throw badKey('A key expires between 1 minute and 365 days after it is made.');
    }
    const now = this.deps.runtime.now();
    const live = (await this.deps.store.listApiKeys({ userId })).filter((k) => isLive(k, now));
    if (live.length >= MAX_LIVE_KEYS) throw badKey(`At most ${MAX_LIVE_KEYS} live keys: revoke one first.`);
    const { id, token, secretHash } = issueToken(this.deps.runtime);
    const record: ApiKeyRecord = {
      id,
      userId,
      name,
      secretHash,
      scopes,
      createdAt: now,
      expiresAt: now + ttl,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.deps.store.createApiKey(record);
    await this.deps.audit.record('api_key.created', {
      ...actor,
      userId,
      detail: { keyId: id, name, scopes },
    });
    return { key: `${API_KEY_PREFIX}${token}`, record };
  }

  list(filter: { userId?: string } = {}): Promise<ApiKeyRecord[]> {
    return this.deps.store.listApiKeys(filter);
  }

  /** Revokes a key (of `ownerId` only, when given); false when there is no such live key. */
  async revoke(id: string, ownerId: string | undefined, actor: Actor): Promise<boolean> {
    const key = await this.deps.store.findApiKey(id);
    if (!key || (ownerId !== undefined && key.userId !== ownerId)) return false;
    if (!(await this.deps.store.revokeApiKey(id, this.deps.runtime.now()))) return false;
    await this.deps.audit.record('api_key.revoked', { ...actor, userId: key.userId, detail: { keyId: id } });
    return true;
  }

  /** The live key and its (unlocked) user, or undefined; never throws on bad input. */
  async verify(presented: string): Promise<{ key: ApiKeyRecord; user: UserRecord } | undefined> {
    if (!presented.startsWith(API_KEY_PREFIX)) return undefined;
    const parsed = parseToken(presented.slice(API_KEY_PREFIX.length));
    const key = parsed && (await this.deps.store.findApiKey(parsed.id));
    const now = this.deps.runtime.now();
    if (!parsed || !key || !secretMatches(parsed.secret, key.secretHash) || !isLive(key, now))
      return undefined;
    const user = await this.deps.accounts.findById(key.userId);
    if (!user || user.lockedAt !== null) return undefined;
    if (key.lastUsedAt === null || now - key.lastUsedAt >= TOUCH_INTERVAL_MS) {
      await this.deps.store.touchApiKey(key.id, now);
      key.lastUsedAt = now;
    }
    return { key, user };
  }

  /** RFC 7662 answer for an API key (resource servers ask the introspection endpoint). */
  async introspect(presented: string): Promise<Introspection> {
    const found = await this.verify(presented);
    if (!found) return { active: false };
    return {
      active: true,
      token_type: 'api_key',
      scope: formatScope(found.key.scopes),
      sub: found.user.id,
      iat: Math.floor(found.key.createdAt / 1000),
      exp: Math.floor(found.key.expiresAt / 1000),
    };
  }
}

export const isLive = (key: ApiKeyRecord, now: number) => key.revokedAt === null && now < key.expiresAt;
