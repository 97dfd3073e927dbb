/**
 * Every failure a client can cause is an AuthError with a stable `code` (part of the HTTP
 * contract: clients branch on it) and the HTTP status it maps to. The message is a human
 * sentence that says what to fix; it never contains a secret or an internal detail.
 */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }
}

/** One body for unknown email, wrong password and locked account, so none can be told apart. */
export const invalidCredentials = () =>
  new AuthError('invalid_credentials', 401, 'The email or password is incorrect.');

export const unauthenticated = () => new AuthError('unauthenticated', 401, 'No valid session: log in first.');
