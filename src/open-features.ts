import type { TesseraConfig } from './config.js';
import type { Accounts } from './core/accounts.js';
import type { Audit } from './core/audit.js';
import type { Control } from './core/control.js';
import type { Keyring } from './core/keyring.js';
import type { Mfa } from './core/mfa/mfa.js';
import { SecondFactors } from './core/mfa/second-factors.js';
import { createOAuth, type OAuth } from './core/oauth/oauth.js';
import { Passkeys } from './core/passkeys/passkeys.js';
import { passkeySecondFactor } from './core/passkeys/second-factor.js';
import type { RefreshRotation } from './core/refresh-rotation.js';
import type { Revocations } from './core/revocations.js';
import type { Runtime } from './core/runtime.js';
import type { Sessions } from './core/sessions.js';
import type { Telemetry } from './core/telemetry.js';
import {
  backchannelLogoutFanout,
  LOGOUT_TOKEN_FORMAT,
  logoutTokenFormat,
} from './events/backchannel-logout.js';
import { type EventFeatures, openEventFeatures } from './events/event-features.js';
import { type EmailFeatures, openEmailFeatures } from './mail/email-features.js';
import { openMfa } from './open-mfa.js';
import { openPasskeyStores } from './store/passkey-stores.js';
import type { Stores } from './store/ports/index.js';

/**
 * The features beside first-party logins, in every mode: third-party applications (OAuth 2.1,
 * OpenID Connect) and API keys, account email, security events out of Tessera, second factors
 * and passkeys. createTessera opens them over its core services and hands them out one by one.
 */
export interface Features {
  readonly oauth: OAuth;
  readonly email: EmailFeatures;
  readonly events: EventFeatures;
  readonly secondFactors: SecondFactors;
  readonly mfa: Mfa;
  readonly passkeys: Passkeys;
  /** The features' part of the periodic sweep of expired records. */
  sweep(): Promise<void>;
  /** Starts the outbox workers: mail, then events. */
  start(onError: (error: unknown) => void): void;
  /** Stops the outbox workers. */
  close(): Promise<void>;
}

export function openFeatures(deps: {
  config: TesseraConfig;
  /** The database's stores; the email, MFA and passkey tables live beside them. */
  databaseStores: Stores;
  /** The stores the rest of Tessera uses (with Redis: sessions served from it). */
  stores: Stores;
  runtime: Runtime;
  sessions: Sessions;
  accounts: Accounts;
  control: Control;
  audit: Audit;
  rotation: RefreshRotation;
  revocations: Revocations | undefined;
  /** OAuth and SETs sign with it (session mode: opened on first use). */
  keyring: () => Promise<Keyring>;
  telemetry: Telemetry;
  warnings: string[];
}): Features {
  const { config, databaseStores, stores, runtime, sessions, accounts, audit, revocations } = deps;
  const oauth = createOAuth({
    stores,
    sessions,
    accounts,
    audit,
    runtime,
    keyring: deps.keyring,
    scopes: config.oauth.scopes,
    issuer: config.jwt.issuer,
    firstPartyAudience: config.jwt.audience,
    signingAlg: config.jwt.algorithm,
    rotation: deps.rotation,
    codeRetentionMs: config.session.absoluteTimeoutMs,
    revocations,
  });
  // Email flows (issue 17): their stores share the database's connection, not the Redis cache.
  const email = openEmailFeatures({
    config,
    stores: databaseStores,
    users: stores.users,
    sessions,
    accounts,
    control: deps.control,
    audit,
    runtime,
  });
  const events = openEventFeatures({ config, stores, runtime, audit, keyring: deps.keyring });
  // OpenID Connect back-channel logout rides the outbox: every ending → a logout token per relying party.
  events.registerFanout(backchannelLogoutFanout(oauth));
  events.registerFormat(LOGOUT_TOKEN_FORMAT, logoutTokenFormat(oauth));
  email.delivery.useTelemetry(deps.telemetry);
  // Second factors: TOTP and recovery codes register themselves in openMfa; another kind of
  // factor (passkeys) is `secondFactors.register(method)` here, and `mfa.onReset(...)` for resets.
  const secondFactors = new SecondFactors();
  const mfa = openMfa({
    config,
    stores: databaseStores,
    runtime,
    audit,
    mail: email.mail,
    factors: secondFactors,
    sessions,
    warnings: deps.warnings,
  });
  // Passkeys (issue 18): their stores share the database's connection, like the email ones.
  const passkeys = new Passkeys({
    stores: openPasskeyStores(databaseStores),
    users: stores.users,
    audit,
    runtime,
    relyingParty: config.webauthn,
  });
  // A passkey is also a second factor and a step-up proof (core/passkeys/second-factor.ts).
  secondFactors.register(passkeySecondFactor(passkeys));
  // An operator's factor reset removes the user's passkeys too.
  mfa.onReset((userId) => passkeys.removeAll(userId));
  return {
    oauth,
    email,
    events,
    secondFactors,
    mfa,
    passkeys,
    async sweep() {
      await oauth.sweep();
      await email.sweep();
      await events.sweep();
      await mfa.challenges.sweep();
      await passkeys.sweep();
    },
    start(onError) {
      email.delivery.start(onError);
      events.start(onError);
    },
    async close() {
      await email.delivery.close();
      await events.close();
    },
  };
}
