import type { AggregateStores } from '../../store/ports/index.js';
import type { Accounts } from '../accounts.js';
import type { Audit } from '../audit.js';
import type { JwsAlgorithm } from '../jwt/algorithms.js';
import type { Keyring } from '../keyring.js';
import type { RefreshRotation } from '../refresh-rotation.js';
import type { Revocations } from '../revocations.js';
import type { Runtime } from '../runtime.js';
import type { Sessions } from '../sessions.js';
import { ApiKeys } from './api-keys.js';
import { OAuthAuthorization } from './authorization.js';
import { BackchannelLogout } from './backchannel-logout.js';
import { OAuthClients } from './clients.js';
import { OidcGrants } from './oidc-grants.js';
import { OIDC_SCOPES, OidcIdentity } from './oidc-identity.js';
import { OAuthTokens } from './tokens.js';

/** Third-party applications (an OAuth 2.1 authorization-server subset) and API keys. */
export interface OAuth {
  /** TESSERA_OAUTH_SCOPES: name → the sentence a user reads on the consent page. */
  readonly scopes: Readonly<Record<string, string>>;
  /** TESSERA_ISSUER: `iss` of every token and of the metadata. */
  readonly issuer: string;
  readonly clients: OAuthClients;
  readonly authorization: OAuthAuthorization;
  readonly tokens: OAuthTokens;
  readonly apiKeys: ApiKeys;
  /** OpenID Connect: subjects, sids, ID, logout and userinfo claims. */
  readonly identity: OidcIdentity;
  /** Back-Channel Logout 1.0: the logout tokens an ending of logins calls for. */
  readonly backchannelLogout: BackchannelLogout;
  /** The signing keys: jwt and hybrid modes' keyring; in session mode opened on first use. */
  keyring(): Promise<Keyring>;
  /** Deletes authorization codes no one can use any more (or detect reuse of); returns how many. */
  sweep(): Promise<number>;
}

export function createOAuth(deps: {
  stores: Pick<
    AggregateStores,
    | 'oauthClients'
    | 'oauthGrants'
    | 'authorizationCodes'
    | 'consentTickets'
    | 'sessions'
    | 'apiKeys'
    | 'relyingPartyLogins'
  >;
  sessions: Sessions;
  accounts: Accounts;
  audit: Audit;
  runtime: Runtime;
  keyring: () => Promise<Keyring>;
  scopes: Readonly<Record<string, string>>;
  issuer: string;
  firstPartyAudience: string;
  /** TESSERA_JWT_ALGORITHM: ID tokens' alg. */
  signingAlg: JwsAlgorithm;
  /** Refresh-token rotation, shared with first-party logins. */
  rotation: RefreshRotation;
  /** A used code is kept this long after it expires, so a late replay still revokes its login. */
  codeRetentionMs: number;
  revocations?: Revocations;
}): OAuth {
  const { stores, sessions, accounts, audit, runtime, revocations } = deps;
  // OpenID Connect's scopes always exist; TESSERA_OAUTH_SCOPES may reword them.
  const scopes = Object.freeze({ ...OIDC_SCOPES, ...deps.scopes });
  const identity = new OidcIdentity({ issuer: deps.issuer, keyring: deps.keyring, runtime });
  const clients = new OAuthClients({
    stores,
    sessions,
    audit,
    runtime,
    scopes,
    firstPartyAudience: deps.firstPartyAudience,
    signingAlg: deps.signingAlg,
    ...(revocations && { revocations }),
  });
  return {
    scopes,
    issuer: deps.issuer,
    clients,
    authorization: new OAuthAuthorization({
      stores,
      clients,
      sessions,
      audit,
      runtime,
      scopes,
      issuer: deps.issuer,
    }),
    tokens: new OAuthTokens({
      stores,
      sessions,
      accounts,
      audit,
      runtime,
      keyring: deps.keyring,
      scopes,
      rotation: deps.rotation,
      oidc: new OidcGrants({ stores, sessions, identity }),
      ...(revocations && { revocations }),
    }),
    identity,
    backchannelLogout: new BackchannelLogout({ stores, sessions, identity }),
    apiKeys: new ApiKeys({ store: stores.apiKeys, accounts, audit, runtime, scopes }),
    keyring: deps.keyring,
    sweep: async () =>
      (await stores.authorizationCodes.deleteExpiredAuthorizationCodes(
        runtime.now() - deps.codeRetentionMs,
      )) +
      (await stores.consentTickets.deleteExpiredConsentTickets(runtime.now())) +
      // A relying-party login outlives any browser login it can name after this long.
      (await stores.relyingPartyLogins.deleteRelyingPartyLoginsBefore(runtime.now() - deps.codeRetentionMs)),
  };
}
