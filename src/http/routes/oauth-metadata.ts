import type { z } from 'zod';
import type { Tessera } from '../../tessera.js';
import type { metadataAnswer } from '../api/oauth-api.js';

/**
 * The one description of the authorization server, served as RFC 8414 metadata
 * (/.well-known/oauth-authorization-server) and as OpenID Provider metadata
 * (/.well-known/openid-configuration): the same object, so the two can never disagree. Typed
 * by the schema the OpenAPI document publishes (api/oauth-api.ts), so a field added here and
 * not there fails to compile.
 */
export function authorizationServerMetadata(tessera: Tessera) {
  const { oauth } = tessera;
  const base = oauth.issuer.replace(/\/+$/, '');
  const alg = tessera.config.jwt.algorithm;
  const metadata: z.infer<typeof metadataAnswer> = {
    issuer: oauth.issuer,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    scopes_supported: Object.keys(oauth.scopes),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    authorization_response_iss_parameter_supported: true,
    // OpenID Connect Discovery 1.0 3, RP-Initiated Logout 1.0 2.1, Back-Channel Logout 1.0 2.1.
    userinfo_endpoint: `${base}/oauth/userinfo`,
    end_session_endpoint: `${base}/oauth/logout`,
    subject_types_supported: ['public', 'pairwise'],
    // HS256 keyrings sign nothing a relying party could verify: no ID token algorithm then.
    id_token_signing_alg_values_supported: alg === 'HS256' ? [] : [alg],
    userinfo_signing_alg_values_supported: [],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'amr',
      'acr',
      'sid',
      'at_hash',
      'email',
      'email_verified',
      'updated_at',
    ],
    claim_types_supported: ['normal'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
    frontchannel_logout_supported: false,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  };
  return Object.freeze(metadata);
}
