import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Keyring } from '../../core/keyring.js';
import type { MaybePromise, SessionRecord, UserRecord } from '../../store/ports/index.js';

/** The mode a deployment serves (TESSERA_MODE); `Tessera.mode` holds it. */
export type ModeName = 'session' | 'jwt' | 'hybrid';

/** How a credential arrived; responses answer the same way. */
export type Transport = 'cookie' | 'bearer';

/** Who is calling, whatever the mode. */
export interface Authenticated {
  userId: string;
  roles: readonly string[];
  /** The login: session id, or the `sid` of a jwt-mode token family. */
  sessionId: string;
  /** How the credential arrived; responses answer the same way. */
  transport: Transport;
  /** When the presented credential stops working if nothing else happens. */
  expiresAt: number;
  /** How and when the user last proved who they are on this login (core/auth-context.ts). */
  authTime: number;
  amr: readonly string[];
  acr: string;
  /** The records it was checked against (absent only on a `tokenAlone` route in jwt/hybrid mode). */
  session?: SessionRecord;
  user?: UserRecord;
}

/**
 * The body fields a login's credentials add: nothing for a cookie client (they went out as
 * cookies), `token` (session mode) or the token pair (jwt, hybrid) for a bearer client.
 */
export type CredentialFields = Record<string, unknown>;

/**
 * Everything that differs between the modes at the HTTP edge, in one place: which credential
 * the client holds and how a request is checked, what a new login hands over, what a password
 * change re-issues, what logout clears, and the routes only the mode has. buildApp chooses one
 * from `tessera.mode` (choose-mode.ts) and decorates the app with it; nothing else asks which
 * mode it is. Adding a mode is one new implementation and one line in choose-mode.ts.
 */
export interface LoginMode {
  readonly name: ModeName;
  /** The cookie whose credential authenticates a browser (an Authorization header wins over it). */
  readonly credentialCookie: string;
  /**
   * Whether a refused credential cookie is dead for good, so requireAuth clears it (session
   * mode). An access-token cookie is kept: the client refreshes and gets a new one.
   */
  readonly refusedCookieIsDead: boolean;
  /**
   * The caller, from the presented credential (already read from the Authorization header or
   * `credentialCookie`). Throws (or rejects with) a 401 AuthError when it is refused.
   * Synchronous when nothing needs waiting for (a verified-token cache hit, a synchronous store
   * read with no renewal due): every authenticated request takes this path.
   */
  authenticate(
    request: FastifyRequest,
    presented: { token: string; transport: Transport },
  ): MaybePromise<Authenticated>;
  /** The login a credential string names, read without checking it (CSRF keys, rate limits). */
  loginIdOf(token: string): string | undefined;
  /** The login a refresh token belongs to (one store read); undefined where there are none. */
  refreshTokenLogin(token: string): Promise<string | undefined>;
  /**
   * A new login for an authenticated user: its record, and the credentials sent as cookies or
   * returned. `amr`: how the user proved who they are (RFC 8176; default a password, ["pwd"]).
   */
  openLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    user: UserRecord,
    transport: Transport,
    amr?: readonly string[],
  ): Promise<{ session: SessionRecord; credentials: CredentialFields }>;
  /** After a password change this login continues under new credentials; copies of the old are worthless. */
  reissue(
    reply: FastifyReply,
    transport: Transport,
    session: SessionRecord,
    user: UserRecord,
  ): Promise<CredentialFields>;
  /** Logout: what to clear beyond the cookies the browser sent (which clearCredentialCookies handles). */
  clearOnLogout(reply: FastifyReply): void;
  /** The mode's own routes (refresh, the public keys), registered once by buildApp. */
  routes(app: FastifyInstance): Promise<void>;
  /** The signing keys the admin API lists, rotates and revokes; 409 not_in_token_mode without them. */
  signingKeys(): Keyring;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The deployment's mode at the HTTP edge, chosen once by buildApp. */
    loginMode: LoginMode;
  }
}
