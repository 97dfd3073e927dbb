import type BetterSqlite3 from 'better-sqlite3';
import { type DatabaseConnection, type Driver, SqliteDialect } from 'kysely';

/**
 * kysely's SQLite dialect, except that a rollback of a transaction SQLite has already rolled
 * back is a no-op. SQLite ends a transaction by itself on some errors (SQLITE_FULL, SQLITE_IOERR,
 * SQLITE_NOMEM, SQLITE_BUSY in some cases); kysely then issues ROLLBACK, which fails with
 * "cannot rollback - no transaction is active" and hides the real error, so a full disk became
 * a 500 `internal_error` instead of a 503 `storage_full` (test/faults/disk.test.ts).
 */
export class SqliteDialectKeepingErrors extends SqliteDialect {
  readonly #database: BetterSqlite3.Database;

  constructor(database: BetterSqlite3.Database) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      if (this.#database.inTransaction) await rollback(connection);
    };
    return driver;
  }
}
