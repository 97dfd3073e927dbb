import type { RefreshTokenRecord } from './refresh-tokens.js';
import type { RelyingPartyLoginRecord } from './relying-party-logins.js';
import type { SessionRecord } from './sessions.js';

/** A single-use authorization code (`<id>.<secret>`), bound to client, redirect URI and PKCE challenge. */
export interface AuthorizationCodeRecord {
  id: string;
  secretHash: string;
  clientId: string;
  userId: string;
  /** The id the login (refresh-token family) exchanging this code gets: a reused code revokes it. */
  sessionId: string;
  redirectUri: string;
  /** BASE64URL(SHA-256(code_verifier)) (S256, the only method). */
  codeChallenge: string;
  scopes: string[];
  audience: string;
  createdAt: number;
  expiresAt: number;
  /** When it was exchanged; null while unused. */
  usedAt: number | null;
  /**
   * Migration 0011: the consenting browser login's proof (ms; RFC 8176 methods), inherited by
   * the delegation; an OpenID Connect code's ID token states it too (`acr` follows from `amr`).
   */
  authTime: number;
  amr: string[];
  /** scope=openid only: what else the ID token will say about the sign-in. */
  oidc?: OidcCodeContext;
}

/** The sign-in behind an OpenID Connect code, beside its proof (`authTime`, `amr`). */
export interface OidcCodeContext {
  /** The client's `nonce`, echoed in the ID token; null when it sent none. */
  nonce: string | null;
  /** The browser login (Tessera session) the user was signed in with: the ID token's `sid`. */
  authSessionId: string;
}

export interface AuthorizationCodeStore {
  createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>;
  findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined>;
  /** Atomically marks an unused code used: true for exactly one of any number of racing calls. */
  useAuthorizationCode(id: string, usedAt: number): Promise<boolean>;
  /**
   * Redeems an unused code in one transaction: marks it used AND stores the login it produces
   * with that login's first refresh token; false, storing nothing, when it was already used.
   * So whoever sees the code used also sees what it produced, and a replay can revoke it.
   * An OpenID Connect code also records, in the same transaction, the relying party's login
   * (`relyingPartyLogin`), so back-channel logout can never miss a sign-in that succeeded.
   */
  redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
    relyingPartyLogin?: RelyingPartyLoginRecord,
  ): Promise<boolean>;
  /** Deletes codes with `expiresAt < before`; returns how many. */
  deleteExpiredAuthorizationCodes(before: number): Promise<number>;
}
