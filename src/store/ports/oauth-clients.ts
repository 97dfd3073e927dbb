/** A third-party application registered to ask users for delegated access (OAuth 2.1). */
export interface OAuthClientRecord {
  id: string;
  name: string;
  /** confidential: authenticates with its secret; public (SPA, native app): PKCE only. */
  type: 'confidential' | 'public';
  /** SHA-256 (hex) of the client secret; null for public clients. */
  secretHash: string | null;
  /** Exact strings: a redirect URI is accepted only if it equals one of these. */
  redirectUris: string[];
  /** The scopes it may ask for (a subset of the configured ones). */
  scopes: string[];
  /** authorization_code (with refresh_token) and/or client_credentials. */
  grantTypes: Array<'authorization_code' | 'client_credentials'>;
  /** The resource its access tokens are for: their `aud`. */
  audience: string;
  createdAt: number;
  /** OpenID Connect registration; absent for a client registered for plain OAuth. */
  oidc?: OidcClientSettings;
}

/** What a relying party registered for OpenID Connect (core/oauth/oidc-clients.ts checks it). */
export interface OidcClientSettings {
  /** `public`: sub = the user id; `pairwise`: sub = HMAC(server secret, sector + user id). */
  subjectType: 'public' | 'pairwise';
  /** The pairwise sector, fixed at registration (the redirect URIs' one host, else the client id). */
  sectorIdentifier: string;
  /** The JWS algorithm its ID tokens are signed with (the keyring's). */
  idTokenSignedResponseAlg: string;
  /** Exact strings: where RP-initiated logout may send the browser back. */
  postLogoutRedirectUris: string[];
  /** OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed; null: none. */
  backchannelLogoutUri: string | null;
  /** Whether its logout tokens must carry `sid` (they always do: Tessera knows the login). */
  backchannelLogoutSessionRequired: boolean;
}

export interface OAuthClientStore {
  createOAuthClient(client: OAuthClientRecord): Promise<void>;
  findOAuthClient(id: string): Promise<OAuthClientRecord | undefined>;
  /** Oldest first. */
  listOAuthClients(): Promise<OAuthClientRecord[]>;
  /** Deletes the client with its grants and codes; true when one was deleted. Its logins are the caller's to end. */
  deleteOAuthClient(id: string): Promise<boolean>;
}
