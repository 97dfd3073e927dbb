// The sentences of tessera/client (index.ts re-exports them), in a module of their own so a
// translation is one file; served beside the SDK like passkeys.js.

/**
 * Sentences for a customer, by Tessera's error code (and `logout`). Tessera never says that an
 * account was locked (a login of a locked account is `invalid_credentials`, like a wrong
 * password, so attackers learn nothing), so the sentences after a forced sign-out say what may
 * have happened and what to do.
 */
export const DEFAULT_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  logout: 'You logged out.',
  invalid_credentials: 'The email or password is not right, or this account cannot sign in right now.',
  unauthenticated:
    'You were signed out: your login ended. It may have expired, been ended from another device, or been ended by our staff (for example when an account is locked). Please sign in again; if you cannot, contact support.',
  token_revoked:
    'You were signed out: your login was ended, from another device or by our staff (for example when an account is locked). Please sign in again; if you cannot, contact support.',
  invalid_refresh_token: 'You were signed out: your login ended. Please sign in again.',
  token_expired: 'Your login expired. Please sign in again.',
  token_reused:
    'You were signed out to protect your account: your login was used from two places at once. Please sign in again and consider changing your password.',
  email_unverified: 'Please confirm your email address first: follow the link we sent you.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  forbidden: 'Your account is not allowed to do this.',
  csrf_token_invalid: 'This page is out of date. Please reload it and try again.',
  store_unavailable: 'Signing in is not available right now. Please try again in a moment.',
  tessera_unavailable: 'Signing in is not available right now. Please try again in a moment.',
  busy: 'Signing in is busy right now. Please try again in a moment.',
  mfa_code_invalid: 'That code is not right or was already used. Enter the current code from your app.',
  mfa_challenge_invalid: 'This sign-in took too long. Please enter your email and password again.',
  step_up_required: 'Please confirm it is you to continue.',
  mfa_required: 'This needs a sign-in with your authenticator app.',
  passkey_invalid:
    'That passkey did not work here. Use a passkey saved for this site, or sign in with your password.',
  passkey_challenge_invalid: 'The passkey request timed out. Please try again.',
});
