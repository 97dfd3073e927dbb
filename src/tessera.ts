import { HibpBreachedPasswords } from './breached-passwords.js';
import { loadConfig, type TesseraConfig } from './config.js';
import { Accounts } from './core/accounts.js';
import { Audit } from './core/audit.js';
import { Control } from './core/control.js';
import { MAX_CLOCK_SKEW_SECONDS } from './core/jwt/claims.js';
import { KEY_RELOAD_INTERVAL_MS, type Keyring } from './core/keyring.js';
import type { Mfa } from './core/mfa/mfa.js';
import type { SecondFactors } from './core/mfa/second-factors.js';
import type { OAuth } from './core/oauth/oauth.js';
import type { Passkeys } from './core/passkeys/passkeys.js';
import { usePasswordHashing } from './core/passwords.js';
import { RefreshRotation } from './core/refresh-rotation.js';
import { REVOCATION_POLL_INTERVAL_MS, Revocations } from './core/revocations.js';
import { type Runtime, systemRuntime } from './core/runtime.js';
import { Sessions } from './core/sessions.js';
import { silentTelemetry, type Telemetry } from './core/telemetry.js';
import { TokenLogins } from './core/token-logins.js';
import { UserEmails } from './core/user-emails.js';
import type { EventFeatures } from './events/event-features.js';
import type { EmailFeatures } from './mail/email-features.js';
import { OUTBOX_DEPTH_CAP, TesseraMetrics } from './metrics/metrics.js';
import { type Features, openFeatures } from './open-features.js';
import { lazyKeyring, openKeyring } from './open-keyring.js';
import { openStores } from './open-stores.js';
import { checkServedMode } from './served-mode.js';
import type { RevocationBus } from './store/bus.js';
import { InProcessBus } from './store/memory/in-process-bus.js';
import type { Stores } from './store/ports/index.js';
import { RedisConnection } from './store/redis/connection.js';
import { RedisRevocationBus } from './store/redis/redis-bus.js';
import { withRedisSessionCache } from './store/redis/stores.js';
import type { ServedModeRecord } from './store/sql/meta.js';
import { PostgresRevocationBus } from './store/sql/postgres-bus.js';
import { sqliteFileModeWarning } from './store/sql/sqlite-files.js';

export { openKeyring } from './open-keyring.js';
export { migrateDatabase, openStores } from './open-stores.js';

/**
 * The whole system: everything hangs off the value createTessera returns, except the
 * password-hashing thread pool, which every instance in the process shares.
 */
export type Tessera = TesseraParts & TesseraMode;

/**
 * The mode this instance serves (TESSERA_MODE), and what only the token modes have: jwt and
 * hybrid always carry their keyring and token logins, session mode never. Code that needs the
 * mode reads `mode` (the HTTP edge: src/http/modes/), never whether a keyring happens to be there.
 */
export type TesseraMode =
  | { readonly mode: 'session'; readonly keyring: undefined; readonly tokens: undefined }
  | ({ readonly mode: 'jwt' } & TokenModeParts)
  | ({
      readonly mode: 'hybrid';
      /** Never undefined in hybrid mode: every access token is checked against it. */
      readonly revocations: Revocations;
    } & TokenModeParts);

interface TokenModeParts {
  /** The signing keys, loaded. */
  readonly keyring: Keyring;
  /** Refresh-token families and access tokens. */
  readonly tokens: TokenLogins;
}

export interface TesseraParts {
  readonly config: TesseraConfig;
  readonly runtime: Runtime;
  /** One store per aggregate (users, sessions, refresh tokens, …) over the configured database. */
  readonly stores: Stores;
  /** TESSERA_REDIS_URL: the connection behind the session cache, rate-limit counters and bus. */
  readonly redis: RedisConnection | undefined;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly audit: Audit;
  /** The control plane: lock, roles, revoke, log everyone out. */
  readonly control: Control;
  /** hybrid mode: the in-memory revocation state, fed by the bus and the revocation log. */
  readonly revocations: Revocations | undefined;
  /** jwt and hybrid modes: user id → email for GET /auth/session, read from the store at most once per user. */
  readonly userEmails: UserEmails;
  /** Third-party applications (OAuth 2.1) and API keys, in every mode. */
  readonly oauth: OAuth;
  /** Account recovery and verification by email: the flows, the outbox and its delivery worker. */
  readonly email: EmailFeatures;
  /**
   * Security events out of Tessera: the durable fan-out (`registerFanout`), the HTTP delivery
   * outbox and its worker (`registerFormat`), webhooks and Shared Signals (src/events/).
   */
  readonly events: EventFeatures;
  /** TESSERA_METRICS_*: this instance's Prometheus registry (src/metrics/); undefined when off. */
  readonly metrics: TesseraMetrics | undefined;
  /** What core and the workers report to the metrics (a no-op when they are off). */
  readonly telemetry: Telemetry;
  /**
   * Second factors (issue 18). `secondFactors`: the registry the login challenge and step-up ask;
   * a new kind of factor (passkeys) is `secondFactors.register(method)` in openFeatures.
   */
  readonly secondFactors: SecondFactors;
  /** TOTP, recovery codes, login challenges, the attempt limit and the role policy (core/mfa/mfa.ts). */
  readonly mfa: Mfa;
  /** Passkeys (WebAuthn): registration, passwordless login, second factor and step-up proofs. */
  readonly passkeys: Passkeys;
  /** Things an operator should know at start (e.g. a generated key-encryption key). */
  readonly warnings: readonly string[];
  /** TESSERA_BREACHED_PASSWORDS=hibp: the breach check, for its skip listeners; undefined when off. */
  readonly breachedPasswords: HibpBreachedPasswords | undefined;
  /** The mode the database said it is served in when this instance opened it (SQL stores). */
  readonly storedMode: ServedModeRecord | undefined;
  /** Starts the periodic jobs: the sweep of expired sessions and old audit events, key reloads. */
  startBackgroundJobs(onError: (error: unknown) => void): void;
  close(): Promise<void>;
}

export interface TesseraOptions {
  /** Clock and randomness; tests inject a manual clock. */
  runtime?: Runtime;
  /** Already opened stores (openStores); otherwise they are opened from `config.database`. */
  stores?: Stores;
  /** hybrid mode: the revocation bus shared with other nodes; in-process by default. */
  bus?: RevocationBus;
  /**
   * An operator's tool (the CLI), not a server. It writes the revocation log whatever its own
   * TESSERA_MODE, so a lock, revoke or role change reaches hybrid servers sharing the database
   * (at once over the bus it can reach, else within their 2 s poll of the log); its entries
   * last as long as the longest access token any server may issue. It does not record a
   * served mode, and reports role changes for the mode the database is served in.
   */
  operator?: boolean;
}

/** The longest access-token lifetime any configuration allows (TESSERA_ACCESS_TOKEN_TTL ≤ 1h). */
const MAX_ACCESS_TOKEN_TTL_MS = 3_600_000;

export async function createTessera(
  config: TesseraConfig = loadConfig(),
  options: TesseraOptions = {},
): Promise<Tessera> {
  const runtime = options.runtime ?? systemRuntime;
  const redis = config.redis && (await RedisConnection.open(config.redis));
  let databaseStores: Stores;
  try {
    databaseStores = options.stores ?? (await openStores(config.database));
  } catch (error) {
    await redis?.close();
    throw error;
  }
  // With Redis, sessions are served from it; the SQL database stays the system of record.
  const stores = redis
    ? withRedisSessionCache(databaseStores, {
        redis: redis.client,
        prefix: redis.settings.prefix,
        now: () => runtime.now(),
      })
    : databaseStores;
  const warnings: string[] = [];
  // The mode the database is served in: an operator's tool only reads it (served-mode.ts).
  let storedMode: ServedModeRecord | undefined;
  try {
    storedMode = await checkServedMode(databaseStores, config.mode, {
      record: !options.operator,
      runtime,
      warnings,
    });
  } catch (error) {
    if (!options.stores) await databaseStores.close().catch(() => undefined);
    await redis?.close();
    throw error;
  }
  // One registry per instance; the outbox gauge reads the email stores, opened further down.
  let features: Features | undefined;
  // An operator's CLI command serves nothing, so it has no metrics.
  const metrics =
    config.metrics && !options.operator
      ? new TesseraMetrics(async () =>
          features
            ? (await features.email.stores.outbox.listMail({ status: 'pending', limit: OUTBOX_DEPTH_CAP }))
                .length
            : 0,
        )
      : undefined;
  const telemetry: Telemetry = metrics ?? silentTelemetry;
  const writesRevocationLog = config.mode === 'hybrid' || options.operator === true;
  const bus = options.bus ?? revocationBus(config, redis, writesRevocationLog);
  let revocations: Revocations | undefined;
  if (writesRevocationLog) {
    // An entry matters while a token it could affect may still verify: lifetime plus skew. An
    // operator's tool cannot know the servers' lifetime, so it assumes the longest allowed.
    const ttlMs = options.operator ? MAX_ACCESS_TOKEN_TTL_MS : config.jwt.accessTokenTtlMs;
    const horizonMs = ttlMs + MAX_CLOCK_SKEW_SECONDS * 1000;
    revocations = new Revocations(stores.revocations, bus, runtime, horizonMs, telemetry);
    try {
      await revocations.start();
    } catch (error) {
      metrics?.close();
      if (!options.bus) await bus.close().catch(() => undefined);
      if (!options.stores) await stores.close().catch(() => undefined);
      await redis?.close();
      throw error;
    }
  }
  // Bound once the event features exist (below): committed events are fanned out at once.
  let eventWritten = () => {};
  const nudgeEvents = () => eventWritten();
  const sessions = new Sessions(stores, runtime, config.session, revocations, nudgeEvents);
  const releasePasswordHashing = usePasswordHashing(config.passwordHashThreads);
  const audit = new Audit(stores.audit, runtime, stores.securityEvents, nudgeEvents, telemetry);
  const breachedPasswords =
    config.breachedPasswords && new HibpBreachedPasswords({ rangeUrl: config.breachedPasswords.rangeUrl });
  // Each skipped check (service unreachable: fail open) leaves an audit row; app.ts logs it too.
  breachedPasswords?.onUnavailable((reason) => {
    audit.record('password.breach_check_skipped', { detail: { reason } }).catch(() => undefined);
  });
  const accounts = new Accounts(stores.users, runtime, breachedPasswords, telemetry);
  const control = new Control({
    users: stores.users,
    sessions,
    audit,
    runtime,
    mode: (options.operator && storedMode?.mode) || config.mode,
    accessTokenTtlMs: config.jwt.accessTokenTtlMs,
  });
  // One rotation routine for every refresh-token family: jwt and hybrid logins, OAuth delegations.
  const rotation = new RefreshRotation({
    store: stores.refreshTokens,
    sessions,
    runtime,
    graceMs: config.jwt.refreshReuseGraceMs,
  });
  if (config.database.engine === 'sqlite' && !options.stores) {
    const exposed = sqliteFileModeWarning(config.database.filename);
    if (exposed) warnings.push(exposed);
  }
  const userEmails = new UserEmails(stores.users, () => runtime.now());
  let modeParts: TesseraMode = { mode: 'session', keyring: undefined, tokens: undefined };
  if (config.mode !== 'session') {
    const keyring = await openKeyring(config, stores.signingKeys, runtime, warnings);
    const tokens = new TokenLogins({
      rotation,
      sessions,
      accounts,
      keyring,
      audit,
      mode: config.mode,
      revocations,
      emails: userEmails,
    });
    modeParts =
      config.mode === 'jwt'
        ? { mode: 'jwt', keyring, tokens }
        : { mode: 'hybrid', keyring, tokens, revocations: hybridRevocations(revocations) };
  }
  // OAuth and SETs sign with the keyring: jwt and hybrid modes' own, or in session mode one opened
  // when first used (so a session-mode deployment that uses neither is unchanged).
  const keyringOf =
    modeParts.mode === 'session'
      ? lazyKeyring(config, stores.signingKeys, runtime, warnings)
      : () => Promise.resolve(modeParts.keyring);
  // OAuth, email, security events, second factors and passkeys (open-features.ts).
  try {
    features = openFeatures({
      config,
      databaseStores,
      stores,
      runtime,
      sessions,
      accounts,
      control,
      audit,
      rotation,
      revocations,
      keyring: keyringOf,
      telemetry,
      warnings,
    });
  } catch (error) {
    revocations?.stop();
    if (!options.bus) await bus.close().catch(() => undefined);
    if (!options.stores) await stores.close().catch(() => undefined);
    await redis?.close();
    await releasePasswordHashing();
    metrics?.close();
    throw error;
  }
  const { oauth, email, events, secondFactors, mfa, passkeys } = features;
  eventWritten = () => events.fanout.nudge();
  const timers: NodeJS.Timeout[] = [];
  return {
    config,
    runtime,
    stores,
    redis,
    accounts,
    sessions,
    audit,
    control,
    revocations,
    ...modeParts,
    userEmails,
    oauth,
    email,
    events,
    metrics,
    telemetry,
    secondFactors,
    mfa,
    passkeys,
    warnings,
    breachedPasswords,
    storedMode,
    startBackgroundJobs(onError) {
      if (timers.length > 0) return;
      const sweep = async () => {
        await sessions.sweep();
        await audit.sweep(config.auditRetentionMs);
        await stores.revocations.deleteExpiredRevocations(runtime.now());
        await features.sweep();
      };
      timers.push(setInterval(() => sweep().catch(onError), config.sweepIntervalMs));
      if (modeParts.mode !== 'session') {
        const { keyring } = modeParts;
        timers.push(setInterval(() => keyring.reload().catch(onError), KEY_RELOAD_INTERVAL_MS));
      }
      if (revocations) {
        const poll = async () => {
          revocations.prune();
          await revocations.catchUp();
        };
        timers.push(setInterval(() => poll().catch(onError), REVOCATION_POLL_INTERVAL_MS));
      }
      for (const timer of timers) timer.unref();
      features.start(onError);
    },
    async close() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await features.close();
      revocations?.stop();
      if (!options.bus) await bus.close();
      await stores.close();
      await redis?.close();
      await releasePasswordHashing();
      metrics?.close();
    },
  };
}

/** Hybrid mode always opens its revocation state (writesRevocationLog); this only tells TypeScript. */
function hybridRevocations(revocations: Revocations | undefined): Revocations {
  if (!revocations) throw new Error('hybrid mode without its revocation state');
  return revocations;
}

/**
 * Hybrid mode's bus between nodes: Redis pub/sub when there is Redis, else PostgreSQL
 * LISTEN/NOTIFY on a shared PostgreSQL, else in-process (one node: SQLite or memory).
 */
function revocationBus(
  config: TesseraConfig,
  redis: RedisConnection | undefined,
  writesRevocationLog: boolean,
): RevocationBus {
  if (!writesRevocationLog) return new InProcessBus();
  if (redis) return new RedisRevocationBus(redis);
  if (config.database.engine === 'postgres') return new PostgresRevocationBus(config.database.url);
  return new InProcessBus();
}
