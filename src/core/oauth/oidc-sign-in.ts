import type { SessionRecord } from '../../store/ports/index.js';
import { AuthError } from '../errors.js';
import type { Keyring } from '../keyring.js';
import type { AuthorizationRequest } from './authorization.js';
import type { OAuthErrorCode } from './errors.js';
import { type OidcIdentity, type SignIn, signInOf } from './oidc-identity.js';

/**
 * What the authorization endpoint does about signing in, before consent: go on with the
 * current login, show the sign-in page (`fresh`: even though someone is signed in), or send
 * an error back to the client. `prompt`, `max_age` and `id_token_hint` decide it:
 *
 * - no login: the sign-in page; `prompt=none` → login_required.
 * - `prompt=login`, or a login older than `max_age` seconds (max_age=0 is prompt=login): the
 *   sign-in page again; with `prompt=none` → login_required.
 * - `id_token_hint` that this server did not sign for this client → invalid_request; one
 *   naming another user than the one signed in → login_required (Tessera never switches
 *   accounts behind the user's back, and never shows whose account the hint names).
 */
export type SignInDecision =
  | { kind: 'continue'; signIn: SignIn }
  | { kind: 'sign-in'; fresh: boolean }
  | { kind: 'error'; error: OAuthErrorCode; description: string };

export async function decideSignIn(
  request: AuthorizationRequest,
  login: { userId: string; session: SessionRecord } | undefined,
  deps: { identity: OidcIdentity; keyring: () => Promise<Keyring>; issuer: string; now: number },
): Promise<SignInDecision> {
  const loginRequired = (description: string): SignInDecision => ({
    kind: 'error',
    error: 'login_required',
    description,
  });
  const hint = request.oidc?.idTokenHint;
  const hinted = hint === undefined ? undefined : await hintedSubject(hint, request.client.id, deps);
  if (hinted === null) {
    return {
      kind: 'error',
      error: 'invalid_request',
      description: 'The id_token_hint is not an ID token this server issued to this client.',
    };
  }
  if (!login) {
    return request.prompt.none
      ? loginRequired('The user is not logged in.')
      : { kind: 'sign-in', fresh: false };
  }
  if (hinted !== undefined && hinted !== (await deps.identity.subject(request.client, login.userId))) {
    return loginRequired('The user signed in is not the one the id_token_hint names.');
  }
  const signIn = signInOf(login.session);
  const maxAge = request.oidc?.maxAge;
  const stale = maxAge !== undefined && (maxAge === 0 || deps.now - signIn.authTime > maxAge * 1000);
  if (request.prompt.login || stale) {
    return request.prompt.none
      ? loginRequired('The user must sign in again (max_age).')
      : { kind: 'sign-in', fresh: true };
  }
  return { kind: 'continue', signIn };
}

/**
 * The `sub` of an ID token this server signed for `clientId` (expired ones too: OIDC Core
 * 3.1.2.1 lets a client send the last one it got), or null for anything else.
 */
async function hintedSubject(
  hint: string,
  clientId: string,
  deps: { keyring: () => Promise<Keyring>; issuer: string },
): Promise<string | null> {
  let payload: Record<string, unknown>;
  try {
    payload = (await deps.keyring()).verifyOwnIdToken(hint);
  } catch (error) {
    // A refused token (401 JwtError) is an invalid hint; anything else (keys unavailable) is not.
    if (error instanceof AuthError && error.status === 401) return null;
    throw error;
  }
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (payload.iss !== deps.issuer || !audiences.includes(clientId) || typeof payload.sub !== 'string')
    return null;
  return payload.sub;
}
