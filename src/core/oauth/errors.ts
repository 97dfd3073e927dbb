import { AuthError } from '../errors.js';

/**
 * The error codes of RFC 6749 (4.1.2.1, 5.2), RFC 7009 and RFC 6750 3.1. The OAuth endpoints
 * answer `{error, error_description}` with these, as every OAuth client library expects,
 * instead of Tessera's own `{error, message}`.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'consent_required'
  | 'login_required'
  | 'server_error'
  | 'temporarily_unavailable';

export class OAuthError extends AuthError {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    /** 400 for everything but invalid_client (401, RFC 6749 5.2). */
    status = error === 'invalid_client' ? 401 : 400,
  ) {
    super(error, status, description);
    this.name = 'OAuthError';
  }
}
