import { z } from 'zod';
import type { RouteApi } from './route-api.js';

/**
 * The OAuth endpoints' descriptions. Their form parameters are read one by one, the RFC way
 * (routes/oauth.ts: a repeated parameter is invalid_request), not by a zod parse: these
 * schemas describe the forms those readers accept, and the answers core/oauth builds.
 */
const form = (shape: Record<string, z.ZodType>) => z.looseObject(shape);
const clientAuth = {
  client_id: z.string().optional().describe('client_secret_post / none; or HTTP Basic'),
  client_secret: z.string().optional(),
};

const tokenAnswer = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string().optional(),
  scope: z.string(),
  /** scope=openid: OIDC Core 3.1.3.3 (a JWS; absent when the keyring is HS256). */
  id_token: z.string().optional(),
});

const inactive = z.strictObject({ active: z.literal(false) });
const active = z.strictObject({
  active: z.literal(true),
  token_type: z.enum(['Bearer', 'refresh_token', 'api_key']),
  client_id: z.string().optional(),
  scope: z.string(),
  sub: z.string(),
  // The login's proof (core/auth-context.ts), a delegation's inherited from the consenting login;
  // absent for a client's own token (client_credentials) and API keys.
  auth_time: z.number().int().optional(),
  amr: z.array(z.string()).optional(),
  acr: z.enum(['aal1', 'aal2']).optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  iss: z.string().optional(),
  jti: z.string().optional(),
  iat: z.number().int(),
  exp: z.number().int(),
});

/** RFC 8414 metadata and OpenID Provider metadata: one object (routes/oauth-metadata.ts is typed by it). */
export const metadataAnswer = z.strictObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  revocation_endpoint: z.string(),
  introspection_endpoint: z.string(),
  jwks_uri: z.string(),
  scopes_supported: z.array(z.string()),
  response_types_supported: z.array(z.string()),
  response_modes_supported: z.array(z.string()),
  grant_types_supported: z.array(z.string()),
  code_challenge_methods_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  revocation_endpoint_auth_methods_supported: z.array(z.string()),
  introspection_endpoint_auth_methods_supported: z.array(z.string()),
  authorization_response_iss_parameter_supported: z.boolean(),
  // OpenID Connect Discovery 1.0 3, RP-Initiated Logout 1.0 2.1, Back-Channel Logout 1.0 2.1.
  userinfo_endpoint: z.string(),
  end_session_endpoint: z.string(),
  subject_types_supported: z.array(z.enum(['public', 'pairwise'])),
  id_token_signing_alg_values_supported: z.array(z.string()),
  userinfo_signing_alg_values_supported: z.array(z.string()),
  claims_supported: z.array(z.string()),
  claim_types_supported: z.array(z.string()),
  prompt_values_supported: z.array(z.string()),
  claims_parameter_supported: z.boolean(),
  request_parameter_supported: z.boolean(),
  request_uri_parameter_supported: z.boolean(),
  require_request_uri_registration: z.boolean(),
  frontchannel_logout_supported: z.boolean(),
  backchannel_logout_supported: z.boolean(),
  backchannel_logout_session_supported: z.boolean(),
});

/** OIDC Core 5.3.2: `sub`, and the claims the granted scopes cover (core/oauth/oidc-identity.ts). */
const userinfoAnswer = z.strictObject({
  sub: z.string(),
  email: z.string().optional().describe('scope email'),
  email_verified: z.boolean().optional().describe('scope email'),
  updated_at: z.number().int().optional().describe('scope profile: seconds since the epoch'),
});

export const oauthApi = {
  metadata: {
    summary: 'Authorization server metadata (RFC 8414)',
    tags: ['discovery'],
    responses: { 200: metadataAnswer },
  },
  token: {
    summary: 'Token endpoint: authorization_code (PKCE), refresh_token, client_credentials',
    form: true,
    body: form({
      grant_type: z.enum(['authorization_code', 'refresh_token', 'client_credentials']),
      code: z.string().optional(),
      redirect_uri: z.string().optional(),
      code_verifier: z.string().optional(),
      refresh_token: z.string().optional(),
      scope: z.string().optional(),
      ...clientAuth,
    }),
    responses: { 200: tokenAnswer },
    errors: 'oauth',
  },
  revoke: {
    summary: 'Revoke a token (RFC 7009): 200 whether or not it was live',
    form: true,
    body: form({ token: z.string(), token_type_hint: z.string().optional(), ...clientAuth }),
    responses: { 200: null },
    errors: 'oauth',
  },
  introspect: {
    summary: 'Introspect a token or API key (RFC 7662), for confidential clients (resource servers)',
    form: true,
    body: form({ token: z.string(), token_type_hint: z.string().optional(), ...clientAuth }),
    responses: { 200: z.union([inactive, active]) },
    errors: 'oauth',
  },
  userinfo: {
    summary: 'UserInfo (OIDC Core 5.3): the access token in the Authorization header only, scope openid',
    responses: { 200: userinfoAnswer },
    errors: 'oauth',
  },
} satisfies Record<string, RouteApi>;
