import type { OidcClientSettings } from '../../store/ports/index.js';
import { AuthError } from '../errors.js';
import type { JwsAlgorithm } from '../jwt/algorithms.js';

/** The OpenID Connect part of a registration (admin API, CLI, console): all optional. */
export interface NewOidcSettings {
  subjectType?: 'public' | 'pairwise';
  idTokenSignedResponseAlg?: string;
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
}

const MAX_LOGOUT_URIS = 10;
const MAX_URI_LENGTH = 2_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const invalid = (message: string) => new AuthError('invalid_client_metadata', message);

/**
 * Checks a client's OpenID Connect settings as strictly as its redirect URIs. A client is a
 * relying party when it may ask for `openid`; the settings are refused on any other client.
 *
 * - `subjectType` (default `public`). A pairwise sector is fixed here, at registration, so a
 *   subject never changes: the redirect URIs' one host, or the client id when they name several.
 * - `idTokenSignedResponseAlg`: the keyring's algorithm (the only one the active key signs
 *   with); HS256 is refused outright, since a relying party cannot verify the server's secret.
 * - `postLogoutRedirectUris`: absolute, no fragment, no credentials; https, or http on loopback,
 *   or a private-use scheme (as redirect URIs), compared as exact strings at logout.
 * - `backchannelLogoutUri`: https (http on loopback only), no fragment (Back-Channel Logout 2.2);
 *   it receives server-to-server POSTs, so private-use schemes make no sense there.
 */
export function checkOidcSettings(
  input: NewOidcSettings | undefined,
  client: {
    id: string;
    scopes: readonly string[];
    redirectUris: readonly string[];
    signingAlg: JwsAlgorithm;
  },
): OidcClientSettings | undefined {
  const openid = client.scopes.includes('openid');
  if (!openid) {
    if (input && Object.values(input).some((v) => v !== undefined)) {
      throw invalid("OpenID Connect settings need the openid scope among the client's scopes.");
    }
    return undefined;
  }
  const given = input ?? {};
  const subjectType = given.subjectType ?? 'public';
  if (subjectType !== 'public' && subjectType !== 'pairwise') {
    throw invalid('The subject type must be public or pairwise.');
  }
  if (client.signingAlg === 'HS256') {
    throw invalid('OpenID Connect needs an asymmetric signing algorithm (TESSERA_JWT_ALGORITHM is HS256).');
  }
  const alg = given.idTokenSignedResponseAlg ?? client.signingAlg;
  if (alg !== client.signingAlg) {
    throw invalid(
      `ID tokens are signed with ${client.signingAlg} (TESSERA_JWT_ALGORITHM), not ${JSON.stringify(alg.slice(0, 20))}.`,
    );
  }
  const postLogoutRedirectUris = [...new Set(given.postLogoutRedirectUris ?? [])];
  if (postLogoutRedirectUris.length > MAX_LOGOUT_URIS) {
    throw invalid(`At most ${MAX_LOGOUT_URIS} post-logout redirect URIs.`);
  }
  for (const uri of postLogoutRedirectUris) checkUri(uri, 'Post-logout redirect URI', true);
  const backchannelLogoutUri = given.backchannelLogoutUri ?? null;
  if (backchannelLogoutUri !== null) checkUri(backchannelLogoutUri, 'Back-channel logout URI', false);
  if (
    given.backchannelLogoutSessionRequired !== undefined &&
    typeof given.backchannelLogoutSessionRequired !== 'boolean'
  ) {
    throw invalid('backchannelLogoutSessionRequired is true or false.');
  }
  const hosts = new Set(
    client.redirectUris.map((uri) => new URL(uri)).map((url) => url.host || url.protocol),
  );
  return {
    subjectType,
    sectorIdentifier: hosts.size === 1 ? ([...hosts][0] as string) : client.id,
    idTokenSignedResponseAlg: alg,
    postLogoutRedirectUris,
    backchannelLogoutUri,
    backchannelLogoutSessionRequired: given.backchannelLogoutSessionRequired ?? true,
  };
}

function checkUri(uri: string, what: string, privateUseAllowed: boolean): void {
  const bad = (why: string) => invalid(`${what} ${JSON.stringify(uri.slice(0, 100))}: ${why}.`);
  if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH || /[\s<>"]/.test(uri) || !URL.canParse(uri)) {
    throw bad('it is not an absolute URL');
  }
  const url = new URL(uri);
  if (url.hash !== '' || uri.includes('#')) throw bad('it must not have a fragment');
  if (url.username !== '' || url.password !== '') throw bad('it must not carry credentials');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return;
    throw bad('plain http is allowed for loopback addresses only (use https)');
  }
  if (privateUseAllowed && /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)) return;
  throw bad(
    privateUseAllowed
      ? 'use https, http on a loopback address, or a private-use scheme'
      : 'use https (http on a loopback address only)',
  );
}
