import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect } from 'kysely';
import type { RefreshTokenRecord, SessionRecord, SessionWithUser, UserRecord } from '../ports.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import {
  fromRefreshTokenRow,
  fromSessionRow,
  fromSessionWithUserRow,
  fromUserRow,
  type SessionWithUserRow,
  SqlStore,
  sessionWithUserSql,
} from './sql-store.js';
import { createPrivateSqliteFile } from './sqlite-files.js';

/**
 * SQLite engine: the shared SqlStore, with the per-request queries (the session with its user
 * in one join, sliding renewal) and the refresh exchange (find the token, retire it) as prepared
 * statements on better-sqlite3 directly. Through kysely each costs ~50 µs of query building
 * and async hand-offs; prepared, a few µs.
 */
class SqliteStore extends SqlStore {
  readonly #findSession: BetterSqlite3.Statement<[string], Selectable<Database['sessions']>>;
  readonly #findUser: BetterSqlite3.Statement<[string], Selectable<Database['users']>>;
  readonly #findSessionWithUser: BetterSqlite3.Statement<[string], SessionWithUserRow>;
  readonly #touchSession: BetterSqlite3.Statement<[number, string]>;
  readonly #findRefreshToken: BetterSqlite3.Statement<[string], Selectable<Database['refresh_tokens']>>;
  readonly #retireRefreshToken: BetterSqlite3.Statement<[number, string]>;

  constructor(db: Kysely<Database>, database: BetterSqlite3.Database, appliedMigrations: string[]) {
    super('sqlite', db, isSqliteUniqueViolation, appliedMigrations);
    this.#findSession = database.prepare('select * from sessions where id = ?');
    this.#findUser = database.prepare('select * from users where id = ?');
    this.#findSessionWithUser = database.prepare(sessionWithUserSql('?'));
    this.#touchSession = database.prepare('update sessions set last_seen_at = ? where id = ?');
    this.#findRefreshToken = database.prepare('select * from refresh_tokens where id = ?');
    this.#retireRefreshToken = database.prepare(
      'update refresh_tokens set retired_at = ? where id = ? and retired_at is null',
    );
  }

  override async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#findSession.get(id);
    return row && fromSessionRow(row);
  }

  override async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = this.#findUser.get(id);
    return row && fromUserRow(row);
  }

  override async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    const row = this.#findSessionWithUser.get(id);
    return row && fromSessionWithUserRow(row);
  }

  override async touchSession(id: string, lastSeenAt: number): Promise<void> {
    this.#touchSession.run(lastSeenAt, id);
  }

  override async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.#findRefreshToken.get(id);
    return row && fromRefreshTokenRow(row);
  }

  override async retireRefreshToken(id: string, retiredAt: number): Promise<boolean> {
    // Same conditional UPDATE as SqlStore's; `changes` says whether this call won.
    return this.#retireRefreshToken.run(retiredAt, id).changes > 0;
  }
}

/** Opens (creating if needed) an SQLite database file and applies pending migrations. */
export async function openSqliteStore(filename: string): Promise<SqlStore> {
  if (filename !== ':memory:') createPrivateSqliteFile(filename);
  const database = new BetterSqlite3(filename);
  // WAL lets the sweep and readers run alongside writers; NORMAL sync is durable in WAL
  // mode except for the last transactions before a power cut (not a crash of the process).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  const applied = await migrateRacingOthers(db as Kysely<unknown>);
  return new SqliteStore(db, database, applied);
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
