import { createHash, createHmac } from 'node:crypto';
import type { OAuthClientRecord, SessionRecord } from '../../store/ports/index.js';
import type { Keyring } from '../keyring.js';
import type { Runtime } from '../runtime.js';

/**
 * OpenID Connect's statements about a user: the subject a relying party sees, the `sid` of a
 * browser login, ID tokens, logout tokens and userinfo claims. Claims follow the granted
 * scopes and nothing else: `openid` gives `sub`; `email` gives `email` and `email_verified`;
 * `profile` gives `updated_at` (Tessera keeps no names, and the email address stays behind the
 * `email` scope so a user who allowed only `profile` never hands it out).
 */

/** The scopes OpenID Connect defines that Tessera serves; TESSERA_OAUTH_SCOPES may reword them. */
export const OIDC_SCOPES: Readonly<Record<string, string>> = Object.freeze({
  openid: 'Sign you in with your account',
  email: 'See your email address and whether it is verified',
});

/** ID tokens are read once, at sign-in; ten minutes covers slow clocks and nothing more. */
export const ID_TOKEN_TTL_SECONDS = 600;
/** Back-Channel Logout 1.0 2.4 recommends a short life: the RP acts on it at once. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What an ID token says about how the user signed in. */
export interface SignIn {
  /** The browser login (first-party session). */
  sessionId: string;
  /** ms. */
  authTime: number;
  amr?: string[];
  acr?: string;
}

/**
 * The one place a login's sign-in facts are read for an ID token and for the authorization
 * code a consent issues: the login's own auth context (core/auth-context.ts), which a step-up
 * (POST /auth/reauthenticate) refreshes in place.
 */
export function signInOf(session: SessionRecord): SignIn {
  return {
    sessionId: session.id,
    authTime: session.authTime,
    ...(session.amr.length > 0 && { amr: [...session.amr] }),
    acr: session.acr,
  };
}

export interface LogoutClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  events: Record<string, Record<string, never>>;
}

export const isOpenId = (scopes: readonly string[]) => scopes.includes('openid');

export class OidcIdentity {
  #pairwise: Buffer | undefined;
  #sid: Buffer | undefined;

  constructor(private readonly deps: { issuer: string; keyring: () => Promise<Keyring>; runtime: Runtime }) {}

  /**
   * `public`: the user id. `pairwise`: HMAC-SHA256(server secret, sector "\n" user id), so two
   * relying parties of different sectors cannot join their users by `sub` (OIDC Core 8.1).
   */
  async subject(client: OAuthClientRecord, userId: string): Promise<string> {
    if (client.oidc?.subjectType !== 'pairwise') return userId;
    this.#pairwise ??= (await this.deps.keyring()).deriveSecret('oidc pairwise subject');
    return createHmac('sha256', this.#pairwise)
      .update(`${client.oidc.sectorIdentifier}\n${userId}`)
      .digest('base64url');
  }

  /**
   * The `sid` relying parties see for a browser login: an HMAC of its id, never the id itself
   * (the id is half of the session token, and the lookup key of the login).
   */
  async sid(sessionId: string): Promise<string> {
    this.#sid ??= (await this.deps.keyring()).deriveSecret('oidc session id');
    return createHmac('sha256', this.#sid).update(sessionId).digest('base64url');
  }

  async idToken(input: {
    client: OAuthClientRecord;
    userId: string;
    signIn: SignIn;
    nonce: string | null;
    accessToken: string;
  }): Promise<string> {
    const keyring = await this.deps.keyring();
    const iat = Math.floor(this.deps.runtime.now() / 1000);
    return keyring.signJwt('JWT', {
      iss: this.deps.issuer,
      sub: await this.subject(input.client, input.userId),
      aud: input.client.id,
      exp: iat + ID_TOKEN_TTL_SECONDS,
      iat,
      auth_time: Math.floor(input.signIn.authTime / 1000),
      ...(input.nonce !== null && { nonce: input.nonce }),
      ...(input.signIn.amr && { amr: input.signIn.amr }),
      ...(input.signIn.acr !== undefined && { acr: input.signIn.acr }),
      sid: await this.sid(input.signIn.sessionId),
      at_hash: tokenHash(input.accessToken, keyring.signingAlgorithm()),
    });
  }

  /**
   * Back-Channel Logout 1.0 2.4: the claims of a logout token but iat, exp and jti (set when it
   * is sent, so a retry is a fresh token with the same jti). No nonce, the logout event, sid.
   */
  async logoutClaims(client: OAuthClientRecord, userId: string, sessionId: string): Promise<LogoutClaims> {
    return {
      iss: this.deps.issuer,
      aud: client.id,
      sub: await this.subject(client, userId),
      sid: await this.sid(sessionId),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    };
  }

  /** The logout token (`typ: logout+jwt`), signed now by the active key. */
  async logoutToken(claims: LogoutClaims, jti: string): Promise<string> {
    const keyring = await this.deps.keyring();
    const iat = Math.floor(this.deps.runtime.now() / 1000);
    return keyring.signJwt('logout+jwt', { ...claims, iat, exp: iat + LOGOUT_TOKEN_TTL_SECONDS, jti });
  }

  /** The UserInfo response (OIDC Core 5.3.2): the claims the granted scopes cover, no more. */
  async userinfo(input: {
    client: OAuthClientRecord;
    user: { id: string; email: string; updatedAt: number };
    scopes: readonly string[];
    emailVerified: boolean;
  }): Promise<Record<string, unknown>> {
    const { scopes, user } = input;
    return {
      sub: await this.subject(input.client, user.id),
      ...(scopes.includes('email') && { email: user.email, email_verified: input.emailVerified }),
      ...(scopes.includes('profile') && { updated_at: Math.floor(user.updatedAt / 1000) }),
    };
  }
}

/**
 * at_hash (OIDC Core 3.1.3.6): the left half of the hash of the access token, base64url. The
 * hash is the one of the ID token's alg: SHA-256 for RS256/ES256, SHA-512 for EdDSA (Ed25519).
 */
export function tokenHash(token: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(token, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
