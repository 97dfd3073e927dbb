import { createRemoteJWKSet } from 'jose';
import { AuthError } from '../core/errors.js';
import type { JwsAlgorithm } from '../core/jwt/algorithms.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';
import { MAX_CLOCK_SKEW_SECONDS } from '../core/jwt/claims.js';
import { REVOCATION_POLL_INTERVAL_MS, Revocations } from '../core/revocations.js';
import { systemRuntime } from '../core/runtime.js';
import {
  API_KEY_PREFIX,
  BearerTokenError,
  type IntrospectionEndpoint,
  verifyAccessToken,
} from '../resource-server.js';
import type { RevocationBus } from '../store/bus.js';
import type { RevocationStore } from '../store/ports/index.js';
import { csrfTokenMatches, deriveCsrfKey } from '../wire/credentials.js';
import { JwksUnavailableError, RemoteJwks } from './jwks.js';
import { defaultWarningSink, type WarningSink, watchModeMismatch } from './mode-mismatch.js';
import {
  type CredentialHeaders,
  credentialCookieOf,
  failure,
  type PresentedCredential,
  type Principal,
  presentedCredential,
  type VerifierMode,
  type VerifyResult,
} from './principal.js';
import { DEFAULT_SESSION_CACHE_MS, RemoteSessions } from './remote-session.js';

export { UNKNOWN_KID_REFETCH_INTERVAL_MS } from './jwks.js';
export type {
  AuthFailure,
  CredentialHeaders,
  PresentedCredential,
  Principal,
  Transport,
  VerifierMode,
  VerifyResult,
} from './principal.js';
export { DEFAULT_SESSION_CACHE_MS, MAX_SESSION_CACHE_MS } from './remote-session.js';

/** `tessera/verify`: check a request's Tessera credentials inside an app server. */
export interface VerifierOptions {
  /** Must match how Tessera runs (TESSERA_MODE): it decides which cookie holds the credential. */
  mode: VerifierMode;
  /** Where this app reaches Tessera, e.g. `http://127.0.0.1:3000`. */
  tesseraUrl: string;
  /** jwt/hybrid: the expected `iss` (Tessera's TESSERA_ISSUER). Default: tesseraUrl's origin. */
  issuer?: string;
  /** jwt/hybrid: the expected `aud` (TESSERA_AUDIENCE). Default `tessera`. */
  audience?: string;
  /** jwt/hybrid: algorithms accepted; default EdDSA, ES256, RS256 (HS256 keys are never published). */
  allowedAlgorithms?: readonly JwsAlgorithm[];
  /**
   * Tessera's TESSERA_CSRF_SECRET. Needed to accept cookie-authenticated POST/PUT/PATCH/DELETE:
   * their `x-csrf-token` must be the token Tessera gave the page. Without it such requests are
   * refused (403), never let through unchecked; bearer requests need no token.
   */
  csrfSecret?: string;
  /**
   * Third-party credentials this app, as an OAuth resource server, accepts as bearer tokens:
   * OAuth access tokens whose `aud` is `audience`, and `tsr_` API keys (opaque: checked by
   * introspection with this resource server's client credentials). Their principal carries
   * the granted scopes and no roles; `requireAuth({scopes})` checks them.
   */
  delegated?: { audience: string; introspection?: IntrospectionEndpoint };
  /** session: how long a positive answer from Tessera is reused (default 2000 ms, at most 5000, 0 = never). */
  sessionCacheMs?: number;
  /**
   * hybrid (required): the revocation log and bus Tessera's nodes write to: Tessera's revocations store, or
   * one opened on the same database (`openStores(...).revocations`), and the same bus (Redis, PostgreSQL, or the
   * in-process bus when the app runs in Tessera's process).
   */
  revocations?: { store: RevocationStore; bus: RevocationBus };
  /**
   * Told once when Tessera turns out to run in another mode than `mode` (requests bring the
   * other mode's cookie or token kind, and Tessera confirms), naming both. Default: a process
   * warning (code TESSERA_MODE_MISMATCH).
   */
  onWarning?: WarningSink;
  /** The clock, ms since the epoch (tests). Default Date.now. */
  now?: () => number;
  /** The fetch used to reach Tessera (tests, proxies). Default the global fetch. */
  fetch?: typeof fetch;
}

export interface Verifier {
  readonly mode: VerifierMode;
  /** The verifier's clock (ms since the epoch): `requireAuth({ freshWithin })` compares auth_time with it. */
  now(): number;
  /** Whether cookie-authenticated state changes can be checked (a csrfSecret was given). */
  readonly csrfConfigured: boolean;
  /** The credential on a request (bearer header or the mode's cookie), then `verify`. */
  authenticate(headers: CredentialHeaders): Promise<VerifyResult>;
  credentialOf(headers: CredentialHeaders): PresentedCredential | undefined;
  verify(credential: PresentedCredential): Promise<VerifyResult>;
  /** Whether `presented` is the anti-CSRF token of this login (constant-time; false without a secret). */
  csrfTokenMatches(sessionId: string, presented: unknown): boolean;
  /** Optional warm-up: fetches the JWKS (jwt, hybrid) and catches up on revocations (hybrid). */
  ready(): Promise<void>;
  /** Stops the revocation subscription and timers. */
  close(): Promise<void>;
}

const DEFAULT_ALGORITHMS: readonly JwsAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];
const MODES: readonly VerifierMode[] = ['session', 'jwt', 'hybrid'];

export function createVerifier(options: VerifierOptions): Verifier {
  if (!MODES.includes(options.mode)) throw new RangeError('mode must be session, jwt or hybrid.');
  const tesseraUrl = new URL(options.tesseraUrl);
  if (tesseraUrl.protocol !== 'http:' && tesseraUrl.protocol !== 'https:') {
    throw new RangeError('tesseraUrl must be an http(s) URL.');
  }
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const cookieName = credentialCookieOf(options.mode);
  const csrf = options.csrfSecret === undefined ? undefined : csrfKeyOf(options.csrfSecret);

  const mismatch = watchModeMismatch({
    mode: options.mode,
    tesseraUrl,
    warn: options.onWarning ?? defaultWarningSink,
    now,
    fetch: fetchImpl,
  });
  const check =
    options.mode === 'session'
      ? sessionCheck(
          new RemoteSessions({
            tesseraUrl: tesseraUrl.href,
            cacheMs: options.sessionCacheMs ?? DEFAULT_SESSION_CACHE_MS,
            now,
            fetch: fetchImpl,
            onTesseraMode: mismatch.observed,
          }),
        )
      : tokenCheck(options, tesseraUrl, now, fetchImpl);

  const delegated = options.delegated && delegatedCheck(options, tesseraUrl);
  const verify = async (credential: PresentedCredential) => {
    if (delegated && credential.transport === 'bearer' && isDelegatedCredential(credential.token)) {
      return delegated(credential);
    }
    const result = await check.verify(credential);
    if (!result.ok && result.failure.status === 401) mismatch.refused(credential);
    return result;
  };

  const credentialOf = (headers: CredentialHeaders) => presentedCredential(headers, cookieName);
  return {
    mode: options.mode,
    now,
    csrfConfigured: csrf !== undefined,
    credentialOf,
    verify,
    authenticate(headers) {
      const credential = credentialOf(headers);
      if (!credential) {
        mismatch.noCredential(headers);
        return Promise.resolve(failure('unauthenticated', 401, 'This request needs a login.', false));
      }
      return verify(credential);
    },
    csrfTokenMatches(sessionId, presented) {
      return csrf !== undefined && csrfTokenMatches(csrf, sessionId, presented);
    },
    ready: check.ready,
    close: check.close,
  };
}

/** The anti-CSRF key exactly as Tessera derives it from TESSERA_CSRF_SECRET. */
function csrfKeyOf(secret: string): Buffer {
  if (typeof secret !== 'string' || secret.length < 32) {
    throw new RangeError('csrfSecret must be TESSERA_CSRF_SECRET (at least 32 characters).');
  }
  return deriveCsrfKey(secret);
}

/**
 * Routing only (the token is then verified in full): an API key by its prefix, an OAuth access
 * token by the `client_id` claim that first-party tokens never carry.
 */
function isDelegatedCredential(token: string): boolean {
  if (token.startsWith(API_KEY_PREFIX)) return true;
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    return typeof JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))?.client_id === 'string';
  } catch {
    return false;
  }
}

/** OAuth access tokens and API keys, through the resource-server helper (src/resource-server.ts). */
function delegatedCheck(options: VerifierOptions, tesseraUrl: URL) {
  const { audience, introspection } = options.delegated as NonNullable<VerifierOptions['delegated']>;
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', tesseraUrl));
  const issuer = options.issuer ?? tesseraUrl.origin;
  return async (credential: PresentedCredential): Promise<VerifyResult> => {
    try {
      const token = await verifyAccessToken(credential.token, { issuer, audience, jwks, introspection });
      const principal: Principal = {
        userId: token.userId ?? token.subject,
        roles: [],
        scopes: token.scopes,
        sessionId: '',
        mode: options.mode,
        transport: 'bearer',
        expiresAt: token.expiresAt,
        authTime: token.authTime,
        amr: token.amr,
        acr: token.acr,
      };
      return { ok: true, principal };
    } catch (error) {
      if (error instanceof BearerTokenError) {
        return failure(error.error ?? 'invalid_token', 401, error.message, true);
      }
      throw error;
    }
  };
}

interface Check {
  verify(credential: PresentedCredential): Promise<VerifyResult>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

function sessionCheck(sessions: RemoteSessions): Check {
  return {
    verify: (credential) => sessions.verify(credential),
    ready: async () => {},
    close: async () => {},
  };
}

/** jwt and hybrid: local signature check with the JWKS, plus (hybrid) the revocation state. */
function tokenCheck(
  options: VerifierOptions,
  tesseraUrl: URL,
  now: () => number,
  fetchImpl: typeof fetch,
): Check {
  const jwks = new RemoteJwks({
    tesseraUrl: tesseraUrl.href,
    issuer: options.issuer ?? tesseraUrl.origin,
    audience: options.audience ?? 'tessera',
    allowedAlgorithms: options.allowedAlgorithms ?? DEFAULT_ALGORITHMS,
    now,
    fetch: fetchImpl,
  });
  const hybrid = options.mode === 'hybrid' ? hybridState(options, now) : undefined;

  async function verify(credential: PresentedCredential): Promise<VerifyResult> {
    let claims: AccessTokenClaims;
    try {
      claims = await jwks.verify(credential.token);
      await hybrid?.check(claims);
    } catch (error) {
      if (error instanceof JwksUnavailableError) {
        return failure('tessera_unavailable', 503, 'Access tokens cannot be checked right now.', true);
      }
      // JwtError (401, its stable code), token_revoked (401), store_unavailable (503).
      if (error instanceof AuthError && (error.status === 401 || error.status === 503)) {
        return failure(error.code, error.status, error.message, true);
      }
      throw error;
    }
    const principal: Principal = {
      userId: claims.sub,
      roles: claims.roles,
      scopes: [],
      sessionId: claims.sid,
      mode: options.mode,
      transport: credential.transport,
      expiresAt: claims.exp * 1000,
      authTime: claims.auth_time === undefined ? undefined : claims.auth_time * 1000,
      amr: claims.amr ?? [],
      acr: claims.acr,
    };
    return { ok: true, principal };
  }

  return {
    verify,
    async ready() {
      await jwks.refetch();
      await hybrid?.start();
    },
    async close() {
      hybrid?.stop();
    },
  };
}

/**
 * hybrid: Tessera's own Revocations (src/core/revocations.ts) over the store and bus the app
 * passes in: subscribe, catch up from the log, poll it every 2 s, refuse while behind and the
 * log cannot be read (503, never fail open). It only reads: this app never revokes anything.
 */
function hybridState(options: VerifierOptions, now: () => number) {
  if (!options.revocations) {
    throw new TypeError('hybrid mode needs `revocations: { store, bus }` (the revocation log and bus).');
  }
  // The horizon only dates revocations this instance would append, and it appends none.
  const horizonMs = 3_600_000 + MAX_CLOCK_SKEW_SECONDS * 1000;
  const runtime = { now, randomBytes: systemRuntime.randomBytes };
  const revocations = new Revocations(options.revocations.store, options.revocations.bus, runtime, horizonMs);
  let started: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    started ??= revocations.start().then(
      () => {
        timer = setInterval(() => {
          revocations.prune();
          revocations.catchUp().catch(() => undefined);
        }, REVOCATION_POLL_INTERVAL_MS);
        timer.unref();
      },
      (error: unknown) => {
        // Try again on the next request; never answer as if nothing were revoked.
        revocations.stop();
        started = undefined;
        throw error instanceof AuthError
          ? error
          : new AuthError('store_unavailable', 'Revocation state cannot be confirmed; try again shortly.');
      },
    );
    return started;
  };
  return {
    start,
    async check(claims: AccessTokenClaims) {
      await start();
      await revocations.check(claims);
    },
    stop() {
      if (timer) clearInterval(timer);
      revocations.stop();
    },
  };
}
