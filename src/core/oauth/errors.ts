import { AuthError, type OAuthErrorCode } from '../errors.js';

/**
 * The error codes of RFC 6749 (4.1.2.1, 5.2), RFC 7009 and RFC 6750 3.1 (OAUTH_ERROR_CODES in
 * core/errors.ts, with their statuses). The OAuth endpoints answer `{error, error_description}`
 * with these, as every OAuth client library expects, instead of Tessera's own `{error, message}`.
 */
export type { OAuthErrorCode };

export class OAuthError extends AuthError {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
  ) {
    // The registry's status: 400 for everything but invalid_client (401, RFC 6749 5.2).
    super(error, description);
    this.name = 'OAuthError';
  }
}
