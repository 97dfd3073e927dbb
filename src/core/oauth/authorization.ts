import type { AggregateStores, OAuthClientRecord, OAuthGrantRecord } from '../../store/ports/index.js';
import type { Audit } from '../audit.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext, Sessions } from '../sessions.js';
import { issueToken, newRandomId, parseToken, secretMatches } from '../tokens.js';
import type { OAuthClients } from './clients.js';
import { OAuthError, type OAuthErrorCode } from './errors.js';
import { isOpenId, type SignIn } from './oidc-identity.js';
import { isSubset, parseScope } from './scopes.js';

/** OAuth 2.1 4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"; one is plenty. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
/** RFC 7636 4.2: BASE64URL(SHA-256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE_LENGTH = 2_000;
/** How long a consent page may stay open before its Allow/Deny is refused: time to read it. */
export const CONSENT_TICKET_TTL_MS = 10 * 60_000;

/** A checked authorization request (RFC 6749 4.1.1 + RFC 7636 4.3). */
export interface AuthorizationRequest {
  client: OAuthClientRecord;
  /** Exactly one of the client's registered URIs. */
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string;
  /**
   * OpenID Connect's `prompt` (also honoured for plain OAuth): `none` (never show a page),
   * `login` (sign in again whatever the login), `consent` (always ask).
   */
  prompt: { none: boolean; login: boolean; consent: boolean };
  /** scope=openid only: the OpenID Connect request parameters. */
  oidc?: {
    nonce: string | null;
    /** Seconds: the user must have signed in at most this long ago. */
    maxAge: number | undefined;
    /** Prefills the sign-in page's email field; nothing else. */
    loginHint: string | undefined;
    idTokenHint: string | undefined;
  };
}

const MAX_NONCE_LENGTH = 500;
const MAX_HINT_LENGTH = 4_000;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

/**
 * The outcome of checking a request. Until the client and its redirect URI are known to be
 * genuine, an error is shown as a page (`page`): redirecting to an unverified URI would make
 * Tessera an open redirector. After that, errors go back to the client (`redirect`).
 */
export type AuthorizationCheck =
  | { kind: 'valid'; request: AuthorizationRequest }
  | { kind: 'page'; message: string }
  | { kind: 'redirect'; to: string };

/** Query parameters as fastify parses them: a repeated parameter is an array. */
export type RawParams = Record<string, unknown>;

/**
 * The authorization endpoint's logic: check the request, decide whether the user must be
 * asked, remember what the user granted, and issue single-use codes bound to the client, the
 * redirect URI and the PKCE challenge (S256 only; `plain` and missing are refused).
 */
export class OAuthAuthorization {
  constructor(
    private readonly deps: {
      stores: Pick<AggregateStores, 'oauthGrants' | 'authorizationCodes' | 'consentTickets' | 'sessions'>;
      clients: OAuthClients;
      sessions: Sessions;
      audit: Audit;
      runtime: Runtime;
      scopes: Readonly<Record<string, string>>;
      /** TESSERA_ISSUER: sent back as `iss` (RFC 9207) so a client can tell servers apart. */
      issuer: string;
    },
  ) {}

  async check(params: RawParams): Promise<AuthorizationCheck> {
    const page = (message: string): AuthorizationCheck => ({ kind: 'page', message });
    const clientId = single(params, 'client_id');
    if (typeof clientId !== 'string') return page('The request names no application (client_id).');
    const client = await this.deps.clients.find(clientId);
    if (!client) return page('The application asking for access is not registered here.');
    const redirectUri = single(params, 'redirect_uri');
    if (typeof redirectUri !== 'string') return page('The request names no redirect URI (redirect_uri).');
    // Exact string comparison (OAuth 2.1 2.3.1): no prefix, case or port tolerance.
    if (!client.redirectUris.includes(redirectUri)) {
      return page(
        'The redirect URI is not one this application registered, so Tessera will not send you there.',
      );
    }
    const state = single(params, 'state');
    const fail = (error: OAuthErrorCode, description: string): AuthorizationCheck => ({
      kind: 'redirect',
      to: this.redirectUrl(redirectUri, {
        error,
        error_description: description,
        state: typeof state === 'string' ? state : undefined,
      }),
    });
    const names = [
      'response_type',
      'scope',
      'state',
      'code_challenge',
      'code_challenge_method',
      'prompt',
      'nonce',
      'max_age',
      'login_hint',
      'id_token_hint',
    ];
    const repeated = names.find((name) => single(params, name) === REPEATED);
    if (repeated) return fail('invalid_request', `The parameter ${repeated} is repeated.`);
    if (typeof state === 'string' && state.length > MAX_STATE_LENGTH) {
      return fail('invalid_request', 'The state is too long.');
    }
    if (!client.grantTypes.includes('authorization_code')) {
      return fail('unauthorized_client', 'This application may not use the authorization code flow.');
    }
    const responseType = single(params, 'response_type');
    if (responseType === undefined) return fail('invalid_request', 'response_type=code is required.');
    if (responseType !== 'code') {
      return fail('unsupported_response_type', 'Only response_type=code is supported (no implicit flow).');
    }
    const challenge = single(params, 'code_challenge');
    const method = single(params, 'code_challenge_method');
    if (challenge === undefined) return fail('invalid_request', 'PKCE is required: send a code_challenge.');
    if (method !== 'S256') {
      return fail('invalid_request', 'code_challenge_method must be S256 (plain is not supported).');
    }
    if (typeof challenge !== 'string' || !S256_CHALLENGE.test(challenge)) {
      return fail('invalid_request', 'The code_challenge is not a base64url SHA-256 hash.');
    }
    const scopeText = single(params, 'scope');
    if (typeof scopeText !== 'string') return fail('invalid_scope', 'Ask for the scopes you need (scope).');
    let scopes: string[];
    try {
      scopes = parseScope(scopeText, this.deps.scopes);
    } catch (error) {
      if (error instanceof OAuthError) return fail('invalid_scope', error.message);
      throw error;
    }
    if (!isSubset(scopes, client.scopes)) {
      return fail('invalid_scope', 'The application asked for a scope it is not allowed.');
    }
    // OIDC Core 3.1.2.1: a space-separated set; `none` with anything else is an error.
    const promptText = single(params, 'prompt');
    const prompts = new Set(typeof promptText === 'string' ? promptText.split(' ').filter(Boolean) : []);
    if ([...prompts].some((p) => !PROMPTS.has(p)) || (prompts.has('none') && prompts.size > 1)) {
      return fail('invalid_request', 'prompt is none alone, or any of login, consent, select_account.');
    }
    const request: AuthorizationRequest = {
      client,
      redirectUri,
      scopes,
      state: typeof state === 'string' ? state : undefined,
      codeChallenge: challenge,
      prompt: { none: prompts.has('none'), login: prompts.has('login'), consent: prompts.has('consent') },
    };
    if (!isOpenId(scopes)) return { kind: 'valid', request };
    const [nonce, maxAge, loginHint, idTokenHint] = ['nonce', 'max_age', 'login_hint', 'id_token_hint'].map(
      (name) => single(params, name) as string | undefined,
    );
    if (nonce !== undefined && (nonce.length < 1 || nonce.length > MAX_NONCE_LENGTH)) {
      return fail('invalid_request', `The nonce must be 1-${MAX_NONCE_LENGTH} characters.`);
    }
    if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) {
      return fail('invalid_request', 'max_age is a number of seconds.');
    }
    if ((loginHint?.length ?? 0) > 320 || (idTokenHint?.length ?? 0) > MAX_HINT_LENGTH) {
      return fail('invalid_request', 'login_hint or id_token_hint is too long.');
    }
    request.oidc = {
      nonce: nonce ?? null,
      maxAge: maxAge === undefined ? undefined : Number(maxAge),
      loginHint,
      idTokenHint,
    };
    return { kind: 'valid', request };
  }

  /** An error for a checked request, sent back to its (registered) redirect URI. */
  errorRedirect(request: AuthorizationRequest, error: OAuthErrorCode, description: string): string {
    return this.redirectUrl(request.redirectUri, {
      error,
      error_description: description,
      state: request.state,
    });
  }

  /** Whether the user must be asked: no standing grant covers these scopes, or the client asked to ask. */
  async needsConsent(userId: string, request: AuthorizationRequest): Promise<boolean> {
    if (request.prompt.consent) return true;
    const grant = await this.deps.stores.oauthGrants.findOAuthGrant(userId, request.client.id);
    return !grant || !isSubset(request.scopes, grant.scopes);
  }

  /**
   * A single-use ticket for the consent page shown to login `sessionId` for `request`. The
   * anti-CSRF token only proves the answer comes from the user's own pages; the ticket also
   * proves it answers this very page: not a form with a scope added, not a replay of an old
   * Allow (after the grant was withdrawn, say), not a page shown to another login.
   */
  async issueConsentTicket(
    userId: string,
    sessionId: string,
    request: AuthorizationRequest,
  ): Promise<string> {
    const { runtime, stores } = this.deps;
    const { id, token, secretHash } = issueToken(runtime);
    const now = runtime.now();
    await stores.consentTickets.createConsentTicket({
      id,
      secretHash,
      sessionId,
      userId,
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      scopes: [...request.scopes],
      state: request.state ?? null,
      codeChallenge: request.codeChallenge,
      createdAt: now,
      expiresAt: now + CONSENT_TICKET_TTL_MS,
    });
    return token;
  }

  /**
   * True when `presented` is a live ticket issued to this login for exactly this request. The
   * ticket is used up by the attempt, whatever the outcome: each page takes one answer.
   */
  async redeemConsentTicket(
    presented: unknown,
    userId: string,
    sessionId: string,
    request: AuthorizationRequest,
  ): Promise<boolean> {
    const parsed = typeof presented === 'string' ? parseToken(presented) : undefined;
    const ticket = parsed && (await this.deps.stores.consentTickets.takeConsentTicket(parsed.id));
    if (!parsed || !ticket || !secretMatches(parsed.secret, ticket.secretHash)) return false;
    const sameScopes =
      ticket.scopes.length === request.scopes.length && isSubset(request.scopes, ticket.scopes);
    return (
      this.deps.runtime.now() < ticket.expiresAt &&
      ticket.sessionId === sessionId &&
      ticket.userId === userId &&
      ticket.clientId === request.client.id &&
      ticket.redirectUri === request.redirectUri &&
      sameScopes &&
      ticket.state === (request.state ?? null) &&
      ticket.codeChallenge === request.codeChallenge
    );
  }

  /**
   * The user agreed (now, or earlier through a standing grant): the grant is remembered (its
   * scopes grow, never shrink, until the user revokes it) and a code is issued. Returns where
   * to send the browser.
   */
  async approve(
    userId: string,
    request: AuthorizationRequest,
    context: {
      client: ClientContext;
      consented: boolean;
      /**
       * The consenting browser login (signInOf): the delegation inherits its proof (auth_time,
       * amr), which an OpenID Connect code's ID token states, naming the login (`sid`).
       */
      signIn: SignIn;
    },
  ): Promise<string> {
    const { signIn } = context;
    const { stores, runtime } = this.deps;
    const now = runtime.now();
    const existing = await stores.oauthGrants.findOAuthGrant(userId, request.client.id);
    const scopes = [...new Set([...(existing?.scopes ?? []), ...request.scopes])];
    await stores.oauthGrants.saveOAuthGrant({
      userId,
      clientId: request.client.id,
      scopes,
      createdAt: now,
      lastUsedAt: now,
    });
    const { id, token, secretHash } = issueToken(runtime);
    await stores.authorizationCodes.createAuthorizationCode({
      id,
      secretHash,
      clientId: request.client.id,
      userId,
      sessionId: newRandomId(runtime),
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      audience: request.client.audience,
      createdAt: now,
      expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
      usedAt: null,
      authTime: signIn.authTime,
      // signInOf leaves out an empty amr (the ID token omits the claim); the code keeps it empty.
      amr: [...(signIn.amr ?? [])],
      ...(request.oidc && { oidc: { nonce: request.oidc.nonce, authSessionId: signIn.sessionId } }),
    });
    if (context.consented) {
      await this.deps.audit.record('oauth.consent_granted', {
        userId,
        client: context.client,
        detail: { clientId: request.client.id, scopes: request.scopes },
      });
    }
    return this.redirectUrl(request.redirectUri, { code: token, state: request.state });
  }

  /** The user said no (or, with prompt=none, could not be asked). */
  async deny(
    userId: string | null,
    request: AuthorizationRequest,
    context: { client: ClientContext; error?: OAuthErrorCode },
  ): Promise<string> {
    const error = context.error ?? 'access_denied';
    if (userId !== null && error === 'access_denied') {
      await this.deps.audit.record('oauth.consent_denied', {
        userId,
        client: context.client,
        detail: { clientId: request.client.id, scopes: request.scopes },
      });
    }
    const description =
      error === 'access_denied'
        ? 'The user did not allow access.'
        : error === 'login_required'
          ? 'The user is not logged in.'
          : 'The user has not granted these scopes.';
    return this.redirectUrl(request.redirectUri, {
      error,
      error_description: description,
      state: request.state,
    });
  }

  /** The apps the user has authorised, with the client each names (grants of deleted clients are gone). */
  async listGrants(userId: string): Promise<Array<{ grant: OAuthGrantRecord; client: OAuthClientRecord }>> {
    const grants = await this.deps.stores.oauthGrants.listUserOAuthGrants(userId);
    const found = await Promise.all(
      grants.map(async (grant) => ({ grant, client: await this.deps.clients.find(grant.clientId) })),
    );
    return found.filter(
      (g): g is { grant: OAuthGrantRecord; client: OAuthClientRecord } => g.client !== undefined,
    );
  }

  /** Withdraws the grant and ends every login (so every token) the client holds for the user. */
  async revokeGrant(userId: string, clientId: string, client: ClientContext): Promise<boolean> {
    const { stores, sessions } = this.deps;
    const grant = await stores.oauthGrants.findOAuthGrant(userId, clientId);
    const logins = await stores.sessions.listOAuthSessions({ clientId, userId });
    if (!grant && logins.length === 0) return false;
    // The grant first: a code issued a moment ago can then no longer be exchanged.
    await stores.oauthGrants.deleteOAuthGrant(userId, clientId);
    for (const login of logins) await sessions.revoke(login.id, 'grant_revoked');
    await this.deps.audit.record('oauth.grant_revoked', {
      userId,
      client,
      detail: { clientId, revokedLogins: logins.length },
    });
    return true;
  }

  /** The redirect URI with the answer appended to its query (RFC 6749 4.1.2) and `iss` (RFC 9207). */
  redirectUrl(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.append(name, value);
    url.searchParams.append('iss', this.deps.issuer);
    return url.href;
  }
}

const REPEATED = Symbol('repeated');

/** One parameter: its string, undefined when absent, REPEATED when sent twice (RFC 6749 3.1). */
function single(params: RawParams, name: string): string | undefined | typeof REPEATED {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : REPEATED;
}
