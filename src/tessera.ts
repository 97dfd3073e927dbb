import { loadConfig, type TesseraConfig } from './config.js';
import { Accounts } from './core/accounts.js';
import { Audit } from './core/audit.js';
import { KEY_RELOAD_INTERVAL_MS, Keyring } from './core/keyring.js';
import { type Runtime, systemRuntime } from './core/runtime.js';
import { Sessions } from './core/sessions.js';
import { TokenLogins } from './core/token-logins.js';
import { resolveKeyEncryptionKey } from './key-encryption-key.js';
import { MemoryStore } from './store/memory/memory-store.js';
import type { Store } from './store/ports.js';
import { openSqliteStore } from './store/sql/sqlite.js';

/** The whole system, with no global state: everything hangs off the value createTessera returns. */
export interface Tessera {
  readonly config: TesseraConfig;
  readonly runtime: Runtime;
  readonly store: Store;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly audit: Audit;
  /** jwt mode only: the signing keys, loaded. */
  readonly keyring: Keyring | undefined;
  /** jwt mode only: refresh-token families and access tokens. */
  readonly tokens: TokenLogins | undefined;
  /** Things an operator should know at start (e.g. a generated key-encryption key). */
  readonly warnings: readonly string[];
  /** Starts the periodic jobs: the sweep of expired sessions and old audit events, key reloads. */
  startBackgroundJobs(onError: (error: unknown) => void): void;
  close(): Promise<void>;
}

export interface TesseraOptions {
  /** Clock and randomness; tests inject a manual clock. */
  runtime?: Runtime;
  /** An already opened store; otherwise one is opened from `config.database`. */
  store?: Store;
}

export async function createTessera(
  config: TesseraConfig = loadConfig(),
  options: TesseraOptions = {},
): Promise<Tessera> {
  const runtime = options.runtime ?? systemRuntime;
  const store = options.store ?? (await openStore(config.database));
  const sessions = new Sessions(store, runtime, config.session);
  const accounts = new Accounts(store, runtime);
  const audit = new Audit(store, runtime);
  const warnings: string[] = [];
  let keyring: Keyring | undefined;
  let tokens: TokenLogins | undefined;
  if (config.mode === 'jwt') {
    keyring = await openKeyring(config, store, runtime, warnings);
    tokens = new TokenLogins({
      store,
      sessions,
      accounts,
      keyring,
      audit,
      runtime,
      refreshReuseGraceMs: config.jwt.refreshReuseGraceMs,
    });
  }
  const timers: NodeJS.Timeout[] = [];
  return {
    config,
    runtime,
    store,
    accounts,
    sessions,
    audit,
    keyring,
    tokens,
    warnings,
    startBackgroundJobs(onError) {
      if (timers.length > 0) return;
      const sweep = async () => {
        await sessions.sweep();
        await audit.sweep(config.auditRetentionMs);
      };
      timers.push(setInterval(() => sweep().catch(onError), config.sweepIntervalMs));
      if (keyring) timers.push(setInterval(() => keyring.reload().catch(onError), KEY_RELOAD_INTERVAL_MS));
      for (const timer of timers) timer.unref();
    },
    async close() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await store.close();
    },
  };
}

export function openStore(database: TesseraConfig['database']): Promise<Store> {
  return database.engine === 'memory'
    ? Promise.resolve(new MemoryStore())
    : openSqliteStore(database.filename);
}

/** The keyring over the store's signing keys, created on first use; also used by `tessera keys`. */
export async function openKeyring(
  config: TesseraConfig,
  store: Store,
  runtime: Runtime,
  warnings: string[] = [],
): Promise<Keyring> {
  const { kek, warning } = resolveKeyEncryptionKey(config, runtime);
  if (warning) warnings.push(warning);
  const keyring = new Keyring(store, runtime, {
    kek,
    algorithm: config.jwt.algorithm,
    allowedAlgorithms: config.jwt.allowedAlgorithms,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    accessTokenTtlMs: config.jwt.accessTokenTtlMs,
  });
  await keyring.load();
  return keyring;
}
