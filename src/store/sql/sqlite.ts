import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable } from 'kysely';
import { StorageError, StoreSetupError } from '../errors.js';
import type { RefreshTokenRecord, SessionRecord, SessionWithUser, UserRecord } from '../ports/index.js';
import { migrateToLatest } from './migrations.js';
import { fromRefreshTokenRow, SqlRefreshTokenStore } from './refresh-tokens.js';
import type { Database } from './schema.js';
import {
  fromSessionRow,
  fromSessionWithUserRow,
  type SessionWithUserRow,
  SqlSessionStore,
  sessionWithUserSql,
} from './sessions.js';
import { SqliteDialectKeepingErrors } from './sqlite-dialect.js';
import { createPrivateSqliteFile } from './sqlite-files.js';
import { SqlStores } from './stores.js';
import { fromUserRow, SqlUserStore } from './users.js';

/*
 * SQLite engine: the shared SQL stores, with the per-request queries (the session with its user
 * in one join, sliding renewal, the refresh token's lookup) as prepared statements on
 * better-sqlite3 directly. Through kysely each costs ~50 µs of query building and async
 * hand-offs; prepared, a few µs.
 */

class SqliteSessionStore extends SqlSessionStore {
  readonly #find: BetterSqlite3.Statement<[string], Selectable<Database['sessions']>>;
  readonly #findWithUser: BetterSqlite3.Statement<[string], SessionWithUserRow>;
  readonly #touch: BetterSqlite3.Statement<[number, string]>;

  constructor(db: Kysely<Database>, database: BetterSqlite3.Database) {
    super(db);
    this.#find = database.prepare('select * from sessions where id = ?');
    this.#findWithUser = database.prepare(sessionWithUserSql('?'));
    this.#touch = database.prepare('update sessions set last_seen_at = ? where id = ?');
  }

  override async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#find.get(id);
    return row && fromSessionRow(row);
  }

  // Synchronous, like the prepared statement under it (MaybePromise): no promise per request.
  override findSessionWithUser(id: string): SessionWithUser | undefined {
    const row = this.#findWithUser.get(id);
    return row && fromSessionWithUserRow(row);
  }

  override async touchSession(id: string, lastSeenAt: number): Promise<void> {
    this.#touch.run(lastSeenAt, id);
  }
}

class SqliteUserStore extends SqlUserStore {
  readonly #findById: BetterSqlite3.Statement<[string], Selectable<Database['users']>>;

  constructor(db: Kysely<Database>, database: BetterSqlite3.Database) {
    super(db, isSqliteUniqueViolation);
    this.#findById = database.prepare('select * from users where id = ?');
  }

  override async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = this.#findById.get(id);
    return row && fromUserRow(row);
  }
}

class SqliteRefreshTokenStore extends SqlRefreshTokenStore {
  readonly #find: BetterSqlite3.Statement<[string], Selectable<Database['refresh_tokens']>>;

  constructor(db: Kysely<Database>, database: BetterSqlite3.Database) {
    super(db);
    this.#find = database.prepare('select * from refresh_tokens where id = ?');
  }

  override async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.#find.get(id);
    return row && fromRefreshTokenRow(row);
  }
}

/**
 * For /healthz: the file is still the one opened (a deleted file keeps answering from its
 * unlinked inode, and everything written to it is lost at the next start), and a write goes
 * through (one page to the WAL: rewriting user_version, which Tessera does not use, with its
 * own value), so a full, read-only or failing disk shows as 503 here, not only on writes.
 */
function sqlitePing(database: BetterSqlite3.Database, filename: string): () => Promise<void> {
  // The file as opened (none for :memory:), to notice it being deleted or replaced.
  const opened = filename === ':memory:' ? undefined : statSync(filename);
  return async () => {
    if (opened) {
      const now = statSync(filename, { throwIfNoEntry: false });
      if (!now || now.ino !== opened.ino || now.dev !== opened.dev) {
        throw new StorageError('storage_failed', {
          message: `the SQLite database file ${filename} was deleted or replaced while in use`,
        });
      }
    }
    const version = database.pragma('user_version', { simple: true }) as number;
    database.pragma(`user_version = ${Math.trunc(version)}`);
  };
}

export interface SqliteStoreOptions {
  /**
   * TESSERA_SQLITE_SYNCHRONOUS. `normal` (default): in WAL mode a commit survives a crash of
   * the process, but the last transactions before a power cut or kernel crash can be lost.
   * `full`: every commit is synced to disk first, at the cost of an fsync per write.
   */
  synchronous?: 'normal' | 'full';
}

/**
 * Opens an SQLite database file (creating it on a first start) and applies pending migrations.
 * Refuses, with a StoreSetupError of one line, a file that fails `PRAGMA quick_check`, a file
 * that is not a database, and a missing file where one was created before (see markerOf).
 */
export async function openSqliteStores(
  filename: string,
  options: SqliteStoreOptions = {},
): Promise<SqlStores> {
  const { synchronous = 'normal' } = options;
  const marker = filename === ':memory:' ? undefined : markerOf(filename);
  if (marker) {
    prepareDirectory(filename, marker);
    createPrivateSqliteFile(filename);
  }
  let database: BetterSqlite3.Database;
  try {
    database = new BetterSqlite3(filename);
    // WAL lets the sweep and readers run alongside writers.
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    // Reads every page once (a full check would also cross-check indexes: slower): garbage in
    // the middle of a file is refused here, not found by a request months later.
    const problems = (database.pragma('quick_check(3)') as Array<{ quick_check: string }>)
      .flatMap((row) => row.quick_check.split('\n'))
      .filter((line) => line !== 'ok' && !line.startsWith('***'));
    if (problems.length > 0) {
      database.close();
      throw new StoreSetupError(
        `the SQLite database ${filename} is corrupt (PRAGMA quick_check: ${problems.slice(0, 2).join('; ')}); restore it from a backup`,
      );
    }
  } catch (error) {
    if (error instanceof StoreSetupError) throw error;
    if (String((error as { code?: unknown }).code).startsWith('SQLITE_CORRUPT')) {
      throw new StoreSetupError(
        `the SQLite database ${filename} is corrupt (${(error as Error).message}); restore it from a backup`,
        { cause: error },
      );
    }
    throw new StoreSetupError(
      `the SQLite database ${filename} cannot be opened: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialectKeepingErrors(database) });
  const applied = await migrateRacingOthers(db as Kysely<unknown>);
  if (marker && !existsSync(marker)) writeFileSync(marker, MARKER_TEXT);
  const engine = {
    name: 'sqlite' as const,
    isUniqueViolation: isSqliteUniqueViolation,
    ping: sqlitePing(database, filename),
    prepared: {
      users: new SqliteUserStore(db, database),
      sessions: new SqliteSessionStore(db, database),
      refreshTokens: new SqliteRefreshTokenStore(db, database),
    },
  };
  return new SqlStores(engine, db, applied);
}

/**
 * "This database was created here": a file next to the database, written after its first
 * successful start. Without it, a missing database is a first start (a fresh clone, a new
 * volume) and is created empty; with it, the database file went missing (deleted, a volume
 * not mounted) and starting empty would silently lose every user, so the node refuses.
 */
function markerOf(filename: string): string {
  return `${filename}.initialised`;
}

const MARKER_TEXT = `Tessera created its SQLite database next to this file. While this marker exists, Tessera
refuses to start if the database file is missing, instead of starting again with no users.
To really start afresh, delete this file together with the database.
`;

function prepareDirectory(filename: string, marker: string): void {
  const directory = dirname(filename);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a path in it is a file, not a directory'
        : (error as Error).message;
    throw new StoreSetupError(`the SQLite database's directory ${directory} cannot be created: ${why}`, {
      cause: error,
    });
  }
  if (!existsSync(filename) && existsSync(marker)) {
    throw new StoreSetupError(
      `the SQLite database ${filename} is missing, but ${marker} says it was created before: restore it from a backup, or delete the marker to start with an empty database`,
    );
  }
}

function isSqliteUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Kysely's migration lock is a no-op on SQLite, so two processes (a server and a CLI command,
 * or two nodes in one test) opening a fresh file at once can both try the first migration. Each
 * migration run is one transaction, so the loser changed nothing: it retries and then finds the
 * winner's migrations applied.
 */
async function migrateRacingOthers(db: Kysely<unknown>): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateToLatest(db);
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
