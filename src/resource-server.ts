import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type OAuthErrorCode, oauthErrorBody } from './core/errors.js';
import { parseBearerAuthorization } from './wire/credentials.js';

/**
 * For resource servers (the APIs third-party apps call): check a Tessera access token (RFC
 * 9068, issued by /oauth/token) or a user's API key (`tsr_…`) for an audience and scopes, and
 * refuse with RFC 6750's status and `WWW-Authenticate` challenge.
 *
 * ```ts
 * const jwks = createRemoteJWKSet(new URL('https://auth.example.com/.well-known/jwks.json'));
 * const options = { issuer: 'https://auth.example.com', audience: 'https://api.example.com', jwks };
 * try {
 *   const principal = await verifyAccessToken(bearerToken(req.headers.authorization), { ...options, scopes: ['accounts:write'] });
 * } catch (error) {
 *   if (error instanceof BearerTokenError) res.status(error.status).set('www-authenticate', error.wwwAuthenticate).json(error.body());
 *   else throw error;
 * }
 * ```
 *
 * Access tokens are verified locally with the JWKS (no call to Tessera), so a revoked one works
 * until it expires (5 minutes by default) unless `introspectAccessTokens` asks Tessera each time.
 * API keys are opaque: they are always checked by introspection (`introspection` is then needed).
 */
export interface VerifyAccessTokenOptions {
  /** TESSERA_ISSUER: the tokens' `iss`. */
  issuer: string;
  /** This resource server: the `aud` its client registration names. */
  audience: string;
  /** Scopes the request needs, all of them; none: any valid token. */
  scopes?: readonly string[];
  /** Tessera's public keys: jose's createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), or a key set. */
  jwks: JWTVerifyGetKey | JSONWebKeySet;
  /**
   * Tessera's introspection endpoint and this resource server's client credentials (a
   * confidential client whose audience is `audience`), or a function answering RFC 7662.
   */
  introspection?: IntrospectionEndpoint | ((token: string) => Promise<Record<string, unknown>>);
  /** Also ask introspection about access tokens: revocation then applies at once, at one request's cost. */
  introspectAccessTokens?: boolean;
  /** Default EdDSA, ES256, RS256 (never HS256: a resource server has no shared secret). */
  algorithms?: string[];
  /** Default 60 s, as Tessera's own verifier. */
  clockToleranceSeconds?: number;
}

export interface IntrospectionEndpoint {
  endpoint: string | URL;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
}

/** Who is calling. */
export interface TokenPrincipal {
  kind: 'access_token' | 'api_key';
  /** `sub`: the user, or for client_credentials the client itself. */
  subject: string;
  /** The user the token acts for; null when a client acts for itself (client_credentials). */
  userId: string | null;
  /** The application the token was issued to; null for API keys. */
  clientId: string | null;
  scopes: string[];
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /**
   * The consenting login's proof, inherited by the delegation: `auth_time` (ms), RFC 8176
   * `amr` and `acr`. Undefined / empty for API keys and client_credentials (no user present).
   */
  authTime: number | undefined;
  amr: string[];
  acr: string | undefined;
}

type BearerErrorCode = Extract<OAuthErrorCode, 'invalid_request' | 'invalid_token' | 'insufficient_scope'>;

/** A refusal (RFC 6750 3): answer with `status`, the `wwwAuthenticate` header and `body()`. */
export class BearerTokenError extends Error {
  readonly wwwAuthenticate: string;

  constructor(
    readonly status: 400 | 401 | 403,
    /** undefined when no token was presented at all (RFC 6750 3.1: then no error code). */
    readonly error: BearerErrorCode | undefined,
    message: string,
    realm: string,
    scopes?: readonly string[],
  ) {
    super(message);
    this.name = 'BearerTokenError';
    const params = [`realm="${quoted(realm)}"`];
    if (error) params.push(`error="${error}"`, `error_description="${quoted(message)}"`);
    if (scopes && scopes.length > 0) params.push(`scope="${quoted(scopes.join(' '))}"`);
    this.wwwAuthenticate = `Bearer ${params.join(', ')}`;
  }

  body(): { error: BearerErrorCode; error_description: string } {
    return oauthErrorBody(this.error ?? 'invalid_token', this.message);
  }
}

const quoted = (text: string) => text.replace(/["\\\r\n]/g, '');
export const API_KEY_PREFIX = 'tsr_';
const DEFAULT_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'];
const INTROSPECTION_TIMEOUT_MS = 5_000;

/** The token of an `Authorization: Bearer` header; undefined when there is none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return parseBearerAuthorization(authorization) ?? '';
}

/** The principal of a valid token with every required scope; a BearerTokenError otherwise. */
export async function verifyAccessToken(
  token: string | undefined,
  options: VerifyAccessTokenOptions,
): Promise<TokenPrincipal> {
  const realm = options.audience;
  const invalid = (message: string) => new BearerTokenError(401, 'invalid_token', message, realm);
  if (token === undefined)
    throw new BearerTokenError(401, undefined, 'This request needs an access token.', realm);
  if (token === '')
    throw new BearerTokenError(400, 'invalid_request', 'The Authorization header is malformed.', realm);

  const principal = token.startsWith(API_KEY_PREFIX)
    ? fromIntrospection(await introspect(token, options, invalid), 'api_key', invalid)
    : await verifyJwt(token, options, invalid);
  if (principal.kind === 'access_token' && options.introspectAccessTokens) {
    fromIntrospection(await introspect(token, options, invalid), 'access_token', invalid);
  }
  const missing = (options.scopes ?? []).filter((s) => !principal.scopes.includes(s));
  if (missing.length > 0) {
    throw new BearerTokenError(
      403,
      'insufficient_scope',
      `This needs the scope ${missing.join(' ')}, which the token was not granted.`,
      realm,
      options.scopes,
    );
  }
  return principal;
}

async function verifyJwt(
  token: string,
  options: VerifyAccessTokenOptions,
  invalid: (message: string) => BearerTokenError,
): Promise<TokenPrincipal> {
  const keys = typeof options.jwks === 'function' ? options.jwks : createLocalJWKSet(options.jwks);
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      audience: options.audience,
      typ: 'at+jwt',
      algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
      requiredClaims: ['sub', 'client_id', 'iat', 'exp', 'jti'],
      clockTolerance: options.clockToleranceSeconds ?? 60,
    });
    const {
      sub,
      client_id: clientId,
      scope,
      exp,
    } = payload as { sub: string; client_id: unknown; scope?: unknown; exp: number };
    if (typeof clientId !== 'string' || (scope !== undefined && typeof scope !== 'string')) {
      throw invalid('The access token is malformed.');
    }
    return {
      kind: 'access_token',
      subject: sub,
      userId: sub === clientId ? null : sub,
      clientId,
      scopes: scopesOf(scope),
      expiresAt: exp * 1000,
      ...authContextOf(payload),
    };
  } catch (error) {
    if (error instanceof BearerTokenError) throw error;
    if (error instanceof errors.JWTExpired) throw invalid('The access token has expired.');
    if (error instanceof errors.JOSEError) throw invalid('The access token is invalid.');
    throw error;
  }
}

async function introspect(
  token: string,
  options: VerifyAccessTokenOptions,
  invalid: (message: string) => BearerTokenError,
): Promise<Record<string, unknown>> {
  const { introspection } = options;
  if (!introspection) throw invalid('API keys are not accepted here.');
  if (typeof introspection === 'function') return introspection(token);
  const fetchImpl = introspection.fetch ?? globalThis.fetch;
  const credentials = `${encodeURIComponent(introspection.clientId)}:${encodeURIComponent(introspection.clientSecret)}`;
  const response = await fetchImpl(introspection.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(INTROSPECTION_TIMEOUT_MS),
  });
  // Not the caller's fault: the app answers 5xx, never "invalid token" for an outage.
  if (!response.ok) throw new Error(`Tessera's introspection endpoint answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

function fromIntrospection(
  answer: Record<string, unknown>,
  kind: TokenPrincipal['kind'],
  invalid: (message: string) => BearerTokenError,
): TokenPrincipal {
  const { active, sub, client_id: clientId, scope, exp } = answer;
  if (active !== true || typeof sub !== 'string' || typeof exp !== 'number') {
    throw invalid(
      kind === 'api_key'
        ? 'The API key is invalid, expired or revoked.'
        : 'The access token has been revoked.',
    );
  }
  return {
    kind,
    subject: sub,
    userId: kind === 'api_key' || sub !== clientId ? sub : null,
    clientId: typeof clientId === 'string' ? clientId : null,
    scopes: scopesOf(scope),
    expiresAt: exp * 1000,
    ...authContextOf(answer),
  };
}

/** auth_time (seconds → ms), amr and acr of a token's claims or an introspection answer. */
function authContextOf(claims: Record<string, unknown>) {
  const { auth_time: authTime, amr, acr } = claims;
  return {
    authTime: typeof authTime === 'number' ? authTime * 1000 : undefined,
    amr: Array.isArray(amr) ? amr.filter((value): value is string => typeof value === 'string') : [],
    acr: typeof acr === 'string' ? acr : undefined,
  };
}

const scopesOf = (scope: unknown) => (typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);
