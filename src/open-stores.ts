import type { TesseraConfig } from './config.js';
import { MemoryStores } from './store/memory/stores.js';
import type { Stores } from './store/ports/index.js';
import { openPostgresStores } from './store/sql/postgres.js';
import { openSqliteStores } from './store/sql/sqlite.js';
import { SqlStores } from './store/sql/stores.js';

/** Opens the configured database's stores; SQL engines apply pending migrations first. */
export function openStores(database: TesseraConfig['database']): Promise<Stores> {
  switch (database.engine) {
    case 'memory':
      return Promise.resolve(new MemoryStores());
    case 'sqlite':
      return openSqliteStores(database.filename, { synchronous: database.synchronous });
    case 'postgres':
      return openPostgresStores(database.url, { poolSize: database.poolSize });
  }
}

/**
 * Applies pending migrations and closes the stores; the names of those that ran (`tessera
 * migrate`, for deploy pipelines that migrate before starting nodes; opening does it too).
 */
export async function migrateDatabase(database: TesseraConfig['database']): Promise<string[]> {
  const stores = await openStores(database);
  try {
    return stores instanceof SqlStores ? [...stores.appliedMigrations] : [];
  } finally {
    await stores.close();
  }
}
