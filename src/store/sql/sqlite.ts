import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect } from 'kysely';
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

  override async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
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

/** Opens (creating if needed) an SQLite database file and applies pending migrations. */
export async function openSqliteStores(filename: string): Promise<SqlStores> {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const database = new BetterSqlite3(filename);
  // WAL lets the sweep and readers run alongside writers; NORMAL sync is durable in WAL
  // mode except for the last transactions before a power cut (not a crash of the process).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  const applied = await migrateRacingOthers(db as Kysely<unknown>);
  const engine = {
    name: 'sqlite' as const,
    isUniqueViolation: isSqliteUniqueViolation,
    prepared: {
      users: new SqliteUserStore(db, database),
      sessions: new SqliteSessionStore(db, database),
      refreshTokens: new SqliteRefreshTokenStore(db, database),
    },
  };
  return new SqlStores(engine, db, applied);
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
