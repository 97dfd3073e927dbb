/**
 * Every stable error code of the HTTP contract, in one registry: the status it answers with and
 * its default message (a human sentence that says what to fix; never a secret or an internal
 * detail). Clients branch on the code, so a code is never renamed or given another status.
 * README.md ("Error codes") lists exactly these codes; test/unit/errors.test.ts checks both ways.
 */
export const ERROR_CODES = {
  // 400: the request itself is wrong.
  bad_request: { status: 400, message: 'The request is malformed.' },
  malformed_json: { status: 400, message: 'The request body is not valid JSON.' },
  json_too_deep: { status: 400, message: 'The JSON body nests too deeply.' },
  invalid_request: { status: 400, message: 'The request is invalid.' },
  webhook_url_refused: {
    status: 400,
    message:
      'Webhook URLs must be https and reach a public address (development allows http and local ones).',
  },
  invalid_email: { status: 400, message: 'Enter a valid email address, like name@example.com.' },
  password_too_short: { status: 400, message: 'The password is too short.' },
  password_too_long: { status: 400, message: 'The password is too long.' },
  password_too_common: {
    status: 400,
    message: 'This password is one of the most common passwords in breach lists; choose another.',
  },
  password_matches_email: { status: 400, message: 'The password must not be your email address.' },
  invalid_roles: { status: 400, message: 'The roles are invalid.' },
  cannot_lock_self: { status: 400, message: 'You cannot lock your own account.' },
  invalid_client_metadata: { status: 400, message: 'The client registration is invalid.' },
  password_breached: {
    status: 400,
    message:
      'This password has appeared in a data breach (Have I Been Pwned), so attackers try it first. Choose another.',
  },
  token_invalid: { status: 400, message: 'This link is not valid: use the newest link from your email.' },
  token_used: { status: 400, message: 'This link was already used.' },
  // Not `token_expired`: that one (401) tells a client to refresh its access token; an expired
  // emailed link needs a new link, so it has a code of its own.
  link_expired: { status: 400, message: 'This link has expired: ask for a new one.' },
  email_unchanged: { status: 400, message: 'This is already the address of your account.' },
  invalid_api_key_request: { status: 400, message: 'The API key request is invalid.' },
  passkey_registration_invalid: {
    status: 400,
    message: 'The new passkey could not be verified: try again, or use another device.',
  },
  // 401: the credential is missing or refused; the cure is a new one.
  unauthenticated: { status: 401, message: 'No valid session: log in first.' },
  invalid_credentials: { status: 401, message: 'The email or password is incorrect.' },
  invalid_refresh_token: {
    status: 401,
    message: 'The refresh token is invalid or has expired: log in again.',
  },
  token_reused: {
    status: 401,
    message:
      'This refresh token was already used, so it may have been stolen: this login has been ended. Log in again.',
  },
  password_required: { status: 401, message: 'Confirm your password (the `password` field) to do this.' },
  invalid_password: { status: 401, message: 'The password is incorrect.' },
  token_revoked: { status: 401, message: 'This access token has been revoked: refresh it or log in again.' },
  passkey_invalid: {
    status: 401,
    message:
      'The passkey could not be verified: it is not registered here, or the sign-in came from another site.',
  },
  passkey_challenge_invalid: {
    status: 401,
    message: 'This passkey request has expired or was already used: start again.',
  },
  // 401: second factors and step-up (issue 18).
  mfa_code_invalid: {
    status: 401,
    message: 'The code is incorrect, expired or was already used: enter the current code.',
  },
  mfa_challenge_invalid: {
    status: 401,
    message: 'The sign-in step has expired or was already used: log in again.',
  },
  step_up_required: {
    status: 401,
    message: 'Confirm who you are again (POST /auth/reauthenticate) to do this.',
  },
  // 401: a presented JWT was refused (core/jwt/errors.ts); `token_expired` means refresh.
  token_malformed: { status: 401, message: 'The token is malformed.' },
  token_alg_not_allowed: { status: 401, message: 'The algorithm of the token is not allowed.' },
  token_header_forbidden: {
    status: 401,
    message: 'The token carries a header member that is never honoured.',
  },
  token_typ_invalid: { status: 401, message: 'The token is not of the expected type.' },
  token_unknown_key: { status: 401, message: 'The token names no key this server knows.' },
  token_invalid_signature: { status: 401, message: 'The signature of the token is invalid.' },
  token_expired: { status: 401, message: 'The token has expired.' },
  token_not_yet_valid: { status: 401, message: 'The token is not valid yet.' },
  token_claims_invalid: { status: 401, message: 'The claims of the token are invalid.' },
  // 403: who the caller is is known; this is not theirs to do.
  forbidden: { status: 403, message: 'This needs the admin role.' },
  mfa_required: {
    status: 403,
    message: 'This needs a login with a second factor: set one up and log in with it.',
  },
  insufficient_scope: { status: 403, message: 'The token was not granted the scope this needs.' },
  invalid_current_password: { status: 403, message: 'The current password is incorrect.' },
  email_unverified: {
    status: 403,
    message: 'Confirm your email address first: follow the link we sent you, or ask for a new one.',
  },
  csrf_token_invalid: {
    status: 403,
    message: 'This request needs the x-csrf-token header for your login: get it from GET /auth/csrf.',
  },
  origin_not_allowed: {
    status: 403,
    message: 'This request comes from a site that is not allowed to make it (see TESSERA_CORS_ORIGINS).',
  },
  // 404
  not_found: { status: 404, message: 'There is no such route.' },
  user_not_found: { status: 404, message: 'There is no user with this id or email.' },
  session_not_found: { status: 404, message: 'There is no live session with this id.' },
  key_not_found: { status: 404, message: 'There is no key with this id.' },
  client_not_found: { status: 404, message: 'There is no client with this id.' },
  grant_not_found: { status: 404, message: 'You have not authorised an application with this id.' },
  api_key_not_found: { status: 404, message: 'There is no live API key with this id.' },
  webhook_not_found: { status: 404, message: 'There is no webhook endpoint with this id.' },
  delivery_not_found: { status: 404, message: 'This webhook endpoint has no delivery with this id.' },
  passkey_not_found: { status: 404, message: 'You have no passkey with this id.' },
  // 409
  email_taken: { status: 409, message: 'An account with this email already exists; log in instead.' },
  last_admin: {
    status: 409,
    message:
      'This would leave no unlocked account with the admin role: give another account the admin role first.',
  },
  mfa_already_enrolled: {
    status: 409,
    message: 'An authenticator app is already set up: remove it first to set up another.',
  },
  mfa_not_enrolled: { status: 409, message: 'No such second factor is set up (or it is not confirmed yet).' },
  not_in_token_mode: { status: 409, message: 'Signing keys exist in jwt and hybrid modes only.' },
  passkey_exists: { status: 409, message: 'This passkey is already registered.' },
  passkey_limit_reached: {
    status: 409,
    message: 'You have the most passkeys an account may have: remove one first.',
  },
  passkeys_unavailable: {
    status: 409,
    message: 'Passkeys are not configured on this server (TESSERA_WEBAUTHN_RP_ID).',
  },
  // 413, 414, 415, 429
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  uri_too_long: { status: 414, message: 'The request URL is too long.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  rate_limited: { status: 429, message: 'Too many attempts: try again later.' },
  // 500: a bug; details go to the log, never to the client.
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  // 503: cannot tell right now (Retry-After: 1); nothing was accepted.
  store_unavailable: {
    status: 503,
    message: 'A store Tessera depends on does not answer; try again shortly.',
  },
  busy: {
    status: 503,
    message: 'The server is checking too many passwords right now; try again in a moment.',
  },
  password_hashing_failed: {
    status: 503,
    message: 'The password-hashing thread stopped unexpectedly; try again.',
  },
  oauth_unavailable: {
    status: 503,
    message:
      'OAuth signs tokens: set TESSERA_KEY_ENCRYPTION_KEY (openssl rand -hex 32) on every node to use it in session mode.',
  },
  webhooks_unavailable: {
    status: 503,
    message:
      'Webhook secrets are sealed with the key-encryption key: set TESSERA_KEY_ENCRYPTION_KEY (openssl rand -hex 32) on every node to use webhooks.',
  },
  mfa_unavailable: {
    status: 503,
    message:
      'Second factors are sealed with the key-encryption key: set TESSERA_KEY_ENCRYPTION_KEY (openssl rand -hex 32) on every node.',
  },
  tessera_unavailable: { status: 503, message: 'Tessera cannot be reached right now; try again shortly.' },
  // OAuth 2.1 (RFC 6749 4.1.2.1 and 5.2, RFC 7009, RFC 6750 3.1): the codes OAuth's own shape carries.
  invalid_client: { status: 401, message: 'The client is unknown or its authentication failed.' },
  invalid_grant: { status: 400, message: 'The grant is invalid, expired or revoked.' },
  unauthorized_client: { status: 400, message: 'This client may not use this grant type.' },
  unsupported_grant_type: { status: 400, message: 'The grant type is not supported.' },
  invalid_scope: { status: 400, message: 'The scope is invalid.' },
  access_denied: { status: 400, message: 'The user or the server denied the request.' },
  unsupported_response_type: { status: 400, message: 'The response type is not supported.' },
  consent_required: { status: 400, message: 'The user has not consented.' },
  login_required: { status: 400, message: 'The user is not logged in.' },
  server_error: { status: 500, message: 'Something went wrong on our side.' },
  temporarily_unavailable: { status: 503, message: 'A store Tessera depends on does not answer.' },
  // RFC 6750 3.1: what a resource server (resource-server.ts, the adapters) answers for a refused token.
  invalid_token: { status: 401, message: 'The access token is invalid.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);

/**
 * The codes of OAuth's `{error, error_description}` shape: the OAuth endpoints' (RFC 6749, RFC
 * 7009) and a resource server's (RFC 6750 3.1: invalid_token, insufficient_scope).
 */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'consent_required',
  'login_required',
  'invalid_token',
  'insufficient_scope',
  'server_error',
  'temporarily_unavailable',
] as const satisfies readonly ErrorCode[];

export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/**
 * Every failure a client can cause is an AuthError with a code from the registry, which gives
 * its status and, unless a more precise sentence is passed, its message.
 */
export class AuthError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code].message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.status = ERROR_CODES[code].status;
  }
}

/** Tessera's error body, `{error, message}`: every answer but the OAuth endpoints'. */
export const errorBody = (code: ErrorCode, message: string = ERROR_CODES[code].message) => ({
  error: code,
  message,
});

/** OAuth's error body, `{error, error_description}` (RFC 6749 5.2, RFC 6750 3). */
export const oauthErrorBody = <C extends OAuthErrorCode>(
  code: C,
  description: string = ERROR_CODES[code].message,
) => ({ error: code, error_description: description });

/** One body for unknown email, wrong password and locked account, so none can be told apart. */
export const invalidCredentials = () => new AuthError('invalid_credentials');

export const unauthenticated = () => new AuthError('unauthenticated');
