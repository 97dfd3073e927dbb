import type { AggregateStores, OAuthClientRecord } from '../../store/ports/index.js';
import type { Audit } from '../audit.js';
import type { Actor } from '../control.js';
import { AuthError } from '../errors.js';
import type { JwsAlgorithm } from '../jwt/algorithms.js';
import type { Revocations } from '../revocations.js';
import type { Runtime } from '../runtime.js';
import type { Sessions } from '../sessions.js';
import { hashSecret, newRandomId, secretMatches } from '../tokens.js';
import { OAuthError } from './errors.js';
import { checkOidcSettings, type NewOidcSettings } from './oidc-clients.js';
import { isSubset } from './scopes.js';

/** What an operator registers (admin API, CLI, console). */
export interface NewClient {
  name: string;
  type: 'confidential' | 'public';
  redirectUris: string[];
  scopes: string[];
  audience: string;
  /** Default: authorization_code when there are redirect URIs, else client_credentials. */
  grantTypes?: OAuthClientRecord['grantTypes'];
  /** OpenID Connect (clients allowed the openid scope): oidc-clients.ts. */
  oidc?: NewOidcSettings;
}

/** How a client presented itself at the token, revocation or introspection endpoint. */
export interface PresentedClient {
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** client_secret_basic (the Authorization header) or client_secret_post / none (the body). */
  method: 'basic' | 'post';
}

/** 256 random bits: as strong as any other Tessera secret, stored only as SHA-256. */
const SECRET_BYTES = 32;
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** RFC 8252 7.1: a private-use scheme is a reversed domain name, so it has a dot. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

const invalidClientInput = (message: string) => new AuthError('invalid_client_metadata', message);
const invalidClient = () =>
  new OAuthError('invalid_client', 'The client is unknown or its authentication failed.');

/**
 * Registered third-party applications. Confidential clients get a random secret, shown once
 * and stored only hashed (compared in constant time); public clients (single-page and native
 * apps, which cannot keep a secret) rely on PKCE alone. Redirect URIs are compared as exact
 * strings, so they are checked here to be sensible: https, http on a loopback host only
 * (RFC 8252 7.3), or a private-use scheme (RFC 8252 7.1); never a fragment.
 */
export class OAuthClients {
  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'oauthClients' | 'sessions'>;
      sessions: Sessions;
      audit: Audit;
      runtime: Runtime;
      /** TESSERA_OAUTH_SCOPES. */
      scopes: Readonly<Record<string, string>>;
      /** TESSERA_AUDIENCE: a client may never ask for tokens that Tessera itself accepts. */
      firstPartyAudience: string;
      /** TESSERA_JWT_ALGORITHM: what ID tokens are signed with. */
      signingAlg: JwsAlgorithm;
      revocations?: Revocations;
    },
  ) {}

  /** Registers a client; the secret (confidential clients) is in the answer and nowhere else. */
  async create(
    input: NewClient,
    actor: Actor,
  ): Promise<{ client: OAuthClientRecord; clientSecret?: string }> {
    const client = this.#validate(input);
    const secret =
      client.type === 'confidential'
        ? this.deps.runtime.randomBytes(SECRET_BYTES).toString('base64url')
        : undefined;
    const record: OAuthClientRecord = {
      ...client,
      secretHash: secret === undefined ? null : hashSecret(secret),
    };
    await this.deps.stores.oauthClients.createOAuthClient(record);
    await this.deps.audit.record('oauth.client_created', {
      ...actor,
      detail: { clientId: record.id, name: record.name, type: record.type },
    });
    return secret === undefined ? { client: record } : { client: record, clientSecret: secret };
  }

  list(): Promise<OAuthClientRecord[]> {
    return this.deps.stores.oauthClients.listOAuthClients();
  }

  find(id: string): Promise<OAuthClientRecord | undefined> {
    return this.deps.stores.oauthClients.findOAuthClient(id);
  }

  /** Deletes the client, its grants and codes, and ends every login and token issued to it. */
  async delete(id: string, actor: Actor): Promise<boolean> {
    const client = await this.deps.stores.oauthClients.findOAuthClient(id);
    if (!client) return false;
    for (const session of await this.deps.stores.sessions.listOAuthSessions({ clientId: id })) {
      await this.deps.sessions.revoke(session.id, 'client_deleted');
    }
    // client_credentials tokens name the client as their `sid`.
    await this.deps.revocations?.revokeSession(id);
    const deleted = await this.deps.stores.oauthClients.deleteOAuthClient(id);
    if (deleted) {
      await this.deps.audit.record('oauth.client_deleted', {
        ...actor,
        detail: { clientId: id, name: client.name },
      });
    }
    return deleted;
  }

  /**
   * Client authentication (RFC 6749 2.3): a confidential client by its secret (Basic or in the
   * body), a public client by its id alone. Every failure is the same 401 invalid_client.
   */
  async authenticate(presented: PresentedClient): Promise<OAuthClientRecord> {
    if (presented.clientId === undefined) throw invalidClient();
    const client = await this.deps.stores.oauthClients.findOAuthClient(presented.clientId);
    if (!client) throw invalidClient();
    if (client.type === 'public') {
      if (presented.clientSecret !== undefined) throw invalidClient();
      return client;
    }
    if (
      presented.clientSecret === undefined ||
      client.secretHash === null ||
      !secretMatches(presented.clientSecret, client.secretHash)
    ) {
      throw invalidClient();
    }
    return client;
  }

  #validate(input: NewClient): Omit<OAuthClientRecord, 'secretHash'> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw invalidClientInput('The name must be 1-100 characters.');
    if (input.type !== 'confidential' && input.type !== 'public') {
      throw invalidClientInput('The type must be confidential or public.');
    }
    const redirectUris = [...new Set(input.redirectUris)];
    if (redirectUris.length > MAX_REDIRECT_URIS) {
      throw invalidClientInput(`At most ${MAX_REDIRECT_URIS} redirect URIs.`);
    }
    for (const uri of redirectUris) checkRedirectUri(uri);
    const scopes = [...new Set(input.scopes)];
    const unknown = scopes.find((s) => !Object.hasOwn(this.deps.scopes, s));
    if (scopes.length === 0 || unknown !== undefined) {
      throw invalidClientInput(
        unknown === undefined
          ? 'Give the client at least one scope.'
          : `There is no scope named ${JSON.stringify(unknown)} (see TESSERA_OAUTH_SCOPES).`,
      );
    }
    const audience = input.audience.trim();
    if (audience.length < 1 || audience.length > 200 || /\s/.test(audience)) {
      throw invalidClientInput('The audience (resource) must be 1-200 characters without spaces.');
    }
    if (audience === this.deps.firstPartyAudience) {
      throw invalidClientInput(
        "The audience must name the application's resource server, not Tessera's own audience.",
      );
    }
    const grantTypes = [
      ...new Set(input.grantTypes ?? [redirectUris.length > 0 ? 'authorization_code' : 'client_credentials']),
    ] as OAuthClientRecord['grantTypes'];
    if (grantTypes.length === 0 || !isSubset(grantTypes, ['authorization_code', 'client_credentials'])) {
      throw invalidClientInput('Grant types are authorization_code and/or client_credentials.');
    }
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      throw invalidClientInput('The authorization_code grant needs at least one redirect URI.');
    }
    if (grantTypes.includes('client_credentials') && input.type === 'public') {
      throw invalidClientInput('A public client cannot use client_credentials: it has no secret.');
    }
    const now = this.deps.runtime.now();
    const id = newRandomId(this.deps.runtime);
    const oidc = checkOidcSettings(input.oidc, {
      id,
      scopes,
      redirectUris,
      signingAlg: this.deps.signingAlg,
    });
    return {
      id,
      name,
      type: input.type,
      redirectUris,
      scopes,
      grantTypes,
      audience,
      createdAt: now,
      ...(oidc && { oidc }),
    };
  }
}

function checkRedirectUri(uri: string): void {
  const bad = (why: string) =>
    invalidClientInput(`Redirect URI ${JSON.stringify(uri.slice(0, 100))}: ${why}.`);
  if (uri.length > MAX_URI_LENGTH || /[\s<>"]/.test(uri) || !URL.canParse(uri)) {
    throw bad('it is not an absolute URL');
  }
  const url = new URL(uri);
  if (url.hash !== '' || uri.includes('#')) throw bad('it must not have a fragment');
  if (url.username !== '' || url.password !== '') throw bad('it must not carry credentials');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return;
    throw bad('plain http is allowed for loopback addresses only (use https)');
  }
  if (PRIVATE_USE_SCHEME.test(url.protocol)) return;
  throw bad('use https, http on a loopback address, or a private-use scheme like com.example.app:');
}
