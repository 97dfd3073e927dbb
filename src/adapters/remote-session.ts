import { createHash } from 'node:crypto';
import { isErrorCode } from '../core/errors.js';
import { failure, type PresentedCredential, type Principal, type VerifyResult } from './principal.js';

/**
 * Session mode for app servers: ask Tessera. `GET {tesseraUrl}/auth/session` with the
 * credential as a bearer token; Tessera does the store lookup, the constant-time hash compare,
 * the idle/absolute expiry, the sliding renewal and the lock check, so none of that logic (nor
 * database credentials, nor a store engine) has to live in the app.
 *
 * Why this rather than reading a shared store directly: it works for any app, whatever its
 * store or language, and keeps one implementation of session semantics. The price is one HTTP
 * round trip per request, cut by a tiny positive cache:
 * - only successes are cached, never refusals (a refused credential costs a call every time);
 * - for `cacheMs` (default 2 s, at most 5 s), never past the credential's own expiry, so a
 *   logout, lock or role change reaches this app at most `cacheMs` after Tessera applied it;
 * - keyed by the SHA-256 of the credential, so the cache never holds the secret itself;
 * - concurrent checks of the same credential share one call.
 */
export const DEFAULT_SESSION_CACHE_MS = 2_000;
export const MAX_SESSION_CACHE_MS = 5_000;
const MAX_CACHE_ENTRIES = 10_000;
const TIMEOUT_MS = 5_000;

export interface RemoteSessionOptions {
  tesseraUrl: string;
  cacheMs: number;
  now: () => number;
  fetch: typeof fetch;
  /** Told the mode each answer of Tessera names (session.mode), to spot a mode mismatch. */
  onTesseraMode?: (mode: unknown) => void;
}

export class RemoteSessions {
  readonly #cache = new Map<string, { principal: Principal; until: number }>();
  readonly #inflight = new Map<string, Promise<VerifyResult>>();
  readonly #url: string;

  constructor(private readonly options: RemoteSessionOptions) {
    if (!(options.cacheMs >= 0 && options.cacheMs <= MAX_SESSION_CACHE_MS)) {
      throw new RangeError(`sessionCacheMs must be between 0 and ${MAX_SESSION_CACHE_MS}.`);
    }
    this.#url = new URL('/auth/session', options.tesseraUrl).href;
  }

  verify(credential: PresentedCredential): Promise<VerifyResult> {
    const key = createHash('sha256').update(credential.token).digest('base64url');
    const now = this.options.now();
    const cached = this.#cache.get(key);
    if (cached && now < cached.until) {
      return Promise.resolve({
        ok: true,
        principal: { ...cached.principal, transport: credential.transport },
      });
    }
    if (cached) this.#cache.delete(key);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#ask(credential, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending.then((result) =>
      result.ok ? { ok: true, principal: { ...result.principal, transport: credential.transport } } : result,
    );
  }

  async #ask(credential: PresentedCredential, key: string): Promise<VerifyResult> {
    let response: Response;
    try {
      response = await this.options.fetch(this.#url, {
        headers: { authorization: `Bearer ${credential.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch {
      return unavailable();
    }
    const body = (await response.json().catch(() => undefined)) as SessionAnswer | undefined;
    if (response.status === 401) {
      return failure(
        isErrorCode(body?.error) ? body.error : 'unauthenticated',
        401,
        typeof body?.message === 'string' ? body.message : 'The credential was refused.',
        true,
      );
    }
    if (response.status === 200) this.options.onTesseraMode?.(body?.session?.mode);
    const principal = response.status === 200 ? principalOf(body, credential) : undefined;
    if (!principal) return unavailable();
    if (this.options.cacheMs > 0) this.#remember(key, principal);
    return { ok: true, principal };
  }

  #remember(key: string, principal: Principal): void {
    const now = this.options.now();
    this.#cache.set(key, { principal, until: Math.min(now + this.options.cacheMs, principal.expiresAt) });
    // Insertion order is age order: drop the oldest (and anything expired at that end).
    for (const [oldest, entry] of this.#cache) {
      if (this.#cache.size <= MAX_CACHE_ENTRIES && now < entry.until) break;
      this.#cache.delete(oldest);
    }
  }
}

interface SessionAnswer {
  error?: unknown;
  message?: unknown;
  user?: { id?: unknown; roles?: unknown };
  session?: {
    id?: unknown;
    expiresAt?: unknown;
    mode?: unknown;
    authTime?: unknown;
    amr?: unknown;
    acr?: unknown;
  };
}

/** The caller from Tessera's GET /auth/session answer; undefined if it is not that shape. */
function principalOf(
  body: SessionAnswer | undefined,
  credential: PresentedCredential,
): Principal | undefined {
  const userId = body?.user?.id;
  const roles = body?.user?.roles;
  const sessionId = body?.session?.id;
  const expiresAt = Date.parse(String(body?.session?.expiresAt));
  if (typeof userId !== 'string' || typeof sessionId !== 'string' || Number.isNaN(expiresAt))
    return undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return undefined;
  const authTime = Date.parse(String(body?.session?.authTime));
  const amr = body?.session?.amr;
  const acr = body?.session?.acr;
  return Object.freeze({
    userId,
    roles: Object.freeze([...roles]),
    scopes: Object.freeze([]),
    sessionId,
    mode: 'session',
    transport: credential.transport,
    expiresAt,
    authTime: Number.isNaN(authTime) ? undefined : authTime,
    amr: Object.freeze(Array.isArray(amr) ? amr.filter((value) => typeof value === 'string') : []),
    acr: typeof acr === 'string' ? acr : undefined,
  });
}

const unavailable = () =>
  failure('tessera_unavailable', 503, 'The session cannot be checked right now; try again shortly.', true);
