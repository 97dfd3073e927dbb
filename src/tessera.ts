import { loadConfig, type TesseraConfig } from './config.js';
import { Accounts } from './core/accounts.js';
import { type Runtime, systemRuntime } from './core/runtime.js';
import { Sessions } from './core/sessions.js';
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
  /** Starts the periodic sweep of expired sessions (the server does; tests call sweep directly). */
  startSweeper(onError: (error: unknown) => void): void;
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
  let sweeper: NodeJS.Timeout | undefined;
  return {
    config,
    runtime,
    store,
    accounts: new Accounts(store, runtime),
    sessions,
    startSweeper(onError) {
      sweeper ??= setInterval(() => sessions.sweep().catch(onError), config.sweepIntervalMs);
      sweeper.unref();
    },
    async close() {
      clearInterval(sweeper);
      await store.close();
    },
  };
}

export function openStore(database: TesseraConfig['database']): Promise<Store> {
  return database.engine === 'memory'
    ? Promise.resolve(new MemoryStore())
    : openSqliteStore(database.filename);
}
