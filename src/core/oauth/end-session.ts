import type { OAuthClientRecord } from '../../store/ports/index.js';
import { AuthError } from '../errors.js';
import type { Keyring } from '../keyring.js';
import type { RawParams } from './authorization.js';
import type { OAuthClients } from './clients.js';
import type { OidcIdentity } from './oidc-identity.js';

/**
 * OpenID Connect RP-Initiated Logout 1.0 (`end_session_endpoint`, GET or POST).
 *
 * - `post_logout_redirect_uri` must be one the client registered, exactly, and the client must
 *   be known (from `id_token_hint`'s `aud` or `client_id`, which must agree); otherwise the
 *   request is answered with a page, never a redirect (no open redirector).
 * - With an `id_token_hint` this server signed whose `sid` is the browser's current login, the
 *   login ends at once: only a relying party that user signed into holds that token.
 * - Without one (missing, expired-and-foreign, another login), the user is asked on a
 *   confirmation page whose form carries the login's anti-CSRF token: a cross-site page can
 *   send the user here, but it cannot end their login.
 * - Nobody signed in: nothing to end; the user is sent back (or told so).
 */
export type EndSessionCheck =
  | { kind: 'page'; message: string }
  | {
      kind: 'valid';
      /** Where to send the browser afterwards (with `state`), or undefined: show a page. */
      redirectTo: string | undefined;
      /** The hint names this very login (`sid`): end it without asking. */
      hintMatches: (sessionId: string) => Promise<boolean>;
      client: OAuthClientRecord | undefined;
      /** The checked parameters, for the confirmation form. */
      params: { postLogoutRedirectUri?: string; state?: string; clientId?: string };
    };

const MAX_PARAM_LENGTH = 4_000;

export async function checkEndSession(
  params: RawParams,
  deps: { clients: OAuthClients; identity: OidcIdentity; keyring: () => Promise<Keyring>; issuer: string },
): Promise<EndSessionCheck> {
  const page = (message: string): EndSessionCheck => ({ kind: 'page', message });
  const get = (name: string) => {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > MAX_PARAM_LENGTH) return null;
    return value;
  };
  const [hint, redirectUri, state, clientId] = [
    'id_token_hint',
    'post_logout_redirect_uri',
    'state',
    'client_id',
  ].map(get);
  if ([hint, redirectUri, state, clientId].includes(null)) {
    return page('The logout request has a repeated or oversized parameter.');
  }
  let hinted: { aud: string[]; sid: unknown } | undefined;
  if (hint) {
    try {
      const payload = (await deps.keyring()).verifyOwnIdToken(hint);
      const aud =
        typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
      if (payload.iss === deps.issuer)
        hinted = { aud: aud.filter((a): a is string => typeof a === 'string'), sid: payload.sid };
    } catch (error) {
      // A refused token (401 JwtError) is an invalid hint; anything else (keys unavailable) is not.
      if (!(error instanceof AuthError && error.status === 401)) throw error;
    }
    if (!hinted) return page('The id_token_hint is not an ID token this server issued.');
  }
  if (clientId && hinted && !hinted.aud.includes(clientId)) {
    return page('The id_token_hint was issued to another application than client_id names.');
  }
  const named = clientId ?? hinted?.aud[0];
  const client = named === undefined ? undefined : await deps.clients.find(named);
  if (named !== undefined && !client)
    return page('The application asking to log you out is not registered here.');
  let redirectTo: string | undefined;
  if (redirectUri !== undefined) {
    if (!client)
      return page('A post_logout_redirect_uri needs the application: send id_token_hint or client_id.');
    // Exact string comparison, as redirect URIs.
    if (!client.oidc?.postLogoutRedirectUris.includes(redirectUri as string)) {
      return page(
        'The post-logout redirect URI is not one this application registered, so Tessera will not send you there.',
      );
    }
    const url = new URL(redirectUri as string);
    if (state !== undefined) url.searchParams.append('state', state as string);
    redirectTo = url.href;
  }
  return {
    kind: 'valid',
    redirectTo,
    client,
    hintMatches: async (sessionId) =>
      hinted !== undefined &&
      typeof hinted.sid === 'string' &&
      hinted.sid === (await deps.identity.sid(sessionId)),
    params: {
      ...(redirectUri !== undefined && { postLogoutRedirectUri: redirectUri as string }),
      ...(state !== undefined && { state: state as string }),
      ...(client && { clientId: client.id }),
    },
  };
}
