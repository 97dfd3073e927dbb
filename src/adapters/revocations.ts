import { ConfigError, loadConfig } from '../config.js';
import type { RevocationBus } from '../store/bus.js';
import type { RevocationStore } from '../store/ports/index.js';

export type { RevocationBus } from '../store/bus.js';
export type { RevocationStore } from '../store/ports/index.js';

/**
 * `tessera/revocations`: what a hybrid app passes to `createAuth({ mode: 'hybrid', revocations })`
 * when it runs in its own process: Tessera's revocation log (its database) and the bus its nodes
 * publish on. Read from the same variables Tessera reads, so an app started with Tessera's
 * TESSERA_DATABASE_URL and TESSERA_REDIS_URL/_PREFIX finds the same log and bus:
 *
 * - with TESSERA_REDIS_URL: Redis pub/sub (the app needs `ioredis` installed);
 * - with a PostgreSQL database: LISTEN/NOTIFY (the app needs `pg`);
 * - with SQLite (one machine): no bus between processes; the verifier's 2-second poll of the
 *   log is what brings revocations (needs `better-sqlite3`).
 *
 * The drivers are loaded only here and only when called, so importing this module, or any other
 * adapter, installs and loads none of them.
 */
export interface RevocationSource {
  store: RevocationStore;
  bus: RevocationBus;
  /** Closes the bus and the database connection (after the verifier's `close()`). */
  close(): Promise<void>;
}

export type RevocationEnvironment = Partial<
  Record<'TESSERA_DATABASE_URL' | 'TESSERA_REDIS_URL' | 'TESSERA_REDIS_PREFIX', string>
>;

export async function openRevocations(env: RevocationEnvironment = process.env): Promise<RevocationSource> {
  if (!env.TESSERA_DATABASE_URL) {
    throw new ConfigError('TESSERA_DATABASE_URL must be the database Tessera uses (its revocation log)');
  }
  // Only the variables that locate the log and the bus: the rest of Tessera's configuration
  // (keys, TLS, mail) is the server's business, not the app's.
  const config = loadConfig({
    TESSERA_DATABASE_URL: env.TESSERA_DATABASE_URL,
    ...(env.TESSERA_REDIS_URL === undefined ? {} : { TESSERA_REDIS_URL: env.TESSERA_REDIS_URL }),
    ...(env.TESSERA_REDIS_PREFIX === undefined ? {} : { TESSERA_REDIS_PREFIX: env.TESSERA_REDIS_PREFIX }),
  });
  if (config.database.engine === 'memory') {
    throw new ConfigError(
      'TESSERA_DATABASE_URL=memory: cannot be shared with another process; pass { store, bus } from createTessera instead',
    );
  }
  // The store openers themselves, not tessera.ts: an app loads no part of the server it does not use.
  const { database } = config;
  const stores =
    database.engine === 'postgres'
      ? await (await import('../store/sql/postgres.js')).openPostgresStores(database.url, {
          poolSize: database.poolSize,
        })
      : await (await import('../store/sql/sqlite.js')).openSqliteStores(database.filename, {
          synchronous: database.synchronous,
        });
  const store = stores.revocations;
  try {
    if (config.redis) {
      const { RedisConnection } = await import('../store/redis/connection.js');
      const { RedisRevocationBus } = await import('../store/redis/redis-bus.js');
      const redis = await RedisConnection.open(config.redis);
      const bus = new RedisRevocationBus(redis);
      return {
        store,
        bus,
        async close() {
          await bus.close();
          await redis.close();
          await stores.close();
        },
      };
    }
    const bus =
      config.database.engine === 'postgres'
        ? new (await import('../store/sql/postgres-bus.js')).PostgresRevocationBus(config.database.url)
        : new (await import('../store/memory/in-process-bus.js')).InProcessBus();
    return {
      store,
      bus,
      async close() {
        await bus.close();
        await stores.close();
      },
    };
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw error;
  }
}
