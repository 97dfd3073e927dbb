import { Kysely, PostgresDialect, type Selectable, sql } from 'kysely';
import pg from 'pg';
import type { RefreshTokenRecord, SessionRecord, SessionWithUser, UserRecord } from '../ports/index.js';
import { migrateToLatest } from './migrations.js';
import {
  CONNECT_TIMEOUT_MS,
  FaultTolerantClient,
  KEEPALIVE_IDLE_MS,
  QUERY_TIMEOUT_MS,
  STATEMENT_TIMEOUT_MS,
} from './pg-client.js';
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
 * PostgreSQL engine: the shared SQL stores and the shared migrations over a pg Pool. pg returns
 * bigint (int8) columns as strings; the stores' row mappers turn every one into a number with
 * Number() (millisecond times stay far below 2^53).
 *
 * As on SQLite, the per-request queries (the session with its user, sliding renewal, the
 * refresh token's lookup) are prepared statements, sent by pg directly: PostgreSQL parses and
 * plans each once per connection, and kysely's query building is skipped. Measured in process
 * on a 2-core machine that also ran PostgreSQL: ≈6,300 session validations/s this way against
 * ≈3,700 through kysely, one at a time (SQLite: ≈80,000).
 */

/** The first row of a named (prepared) statement. */
async function first<T extends keyof Database>(
  pool: pg.Pool,
  statement: { name: string; text: string },
  values: unknown[],
): Promise<Selectable<Database[T]> | undefined> {
  const { rows } = await pool.query<Selectable<Database[T]>>({ ...statement, values });
  return rows[0];
}

class PostgresSessionStore extends SqlSessionStore {
  constructor(
    db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {
    super(db);
  }

  override async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await first<'sessions'>(this.pool, FIND_SESSION, [id]);
    return row && fromSessionRow(row);
  }

  override async findSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    const { rows } = await this.pool.query<SessionWithUserRow>({ ...FIND_SESSION_WITH_USER, values: [id] });
    return rows[0] && fromSessionWithUserRow(rows[0]);
  }

  override async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.pool.query({ ...TOUCH_SESSION, values: [lastSeenAt, id] });
  }
}

class PostgresUserStore extends SqlUserStore {
  constructor(
    db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {
    super(db, isPgUniqueViolation);
  }

  override async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await first<'users'>(this.pool, FIND_USER, [id]);
    return row && fromUserRow(row);
  }
}

class PostgresRefreshTokenStore extends SqlRefreshTokenStore {
  constructor(
    db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {
    super(db);
  }

  override async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = await first<'refresh_tokens'>(this.pool, FIND_REFRESH_TOKEN, [id]);
    return row && fromRefreshTokenRow(row);
  }
}

/**
 * Every column, named: a statement prepared as `select *` fails ("cached plan must not change
 * result type") once another node's migration adds a column, until its connection closes.
 * The Record type makes a column added to schema.ts a compile error here until it is listed.
 */
const columns = <T>(all: Record<keyof T, true>) => Object.keys(all).join(', ');
const SESSION_COLUMNS = columns<Database['sessions']>({
  id: true,
  user_id: true,
  mode: true,
  secret_hash: true,
  created_at: true,
  last_seen_at: true,
  expires_at: true,
  ip: true,
  user_agent: true,
  client_id: true,
  scopes: true,
  audience: true,
  auth_time: true,
  amr: true,
  acr: true,
});
const USER_COLUMNS = columns<Database['users']>({
  id: true,
  email: true,
  email_key: true,
  password_hash: true,
  roles: true,
  locked_at: true,
  lock_reason: true,
  created_at: true,
  updated_at: true,
});
const REFRESH_TOKEN_COLUMNS = columns<Database['refresh_tokens']>({
  id: true,
  session_id: true,
  secret_hash: true,
  created_at: true,
  retired_at: true,
  successor: true,
});
const FIND_SESSION = {
  name: 'tessera_find_session',
  text: `select ${SESSION_COLUMNS} from sessions where id = $1`,
};
const FIND_USER = { name: 'tessera_find_user', text: `select ${USER_COLUMNS} from users where id = $1` };
const FIND_SESSION_WITH_USER = { name: 'tessera_find_session_with_user', text: sessionWithUserSql('$1') };
const TOUCH_SESSION = {
  name: 'tessera_touch_session',
  text: 'update sessions set last_seen_at = $1 where id = $2',
};
const FIND_REFRESH_TOKEN = {
  name: 'tessera_find_refresh_token',
  text: `select ${REFRESH_TOKEN_COLUMNS} from refresh_tokens where id = $1`,
};

export interface PostgresStoreOptions {
  /**
   * Put every table in this schema (created if missing) by setting search_path on each
   * connection; tests use one per store to isolate. Default: the connection's own search_path
   * (normally `public`).
   */
  schema?: string;
  /** Connections this node may open; default DEFAULT_POOL_SIZE. */
  poolSize?: number;
}

/**
 * 10 connections per node (pg's default). A request holds a connection for one or two point
 * queries (well under a millisecond on a LAN), so 10 serve thousands of requests a second,
 * while PostgreSQL's default max_connections (100) still leaves room for 8 or 9 nodes plus
 * operators' tools. Each connection is a server process with its own memory: more is not free.
 */
export const DEFAULT_POOL_SIZE = 10;
/** A transaction left open (a bug) holds locks; PostgreSQL ends the session after 60 s. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Connects (pool), creates the schema if asked, applies pending migrations. */
export async function openPostgresStores(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<SqlStores> {
  const { schema, poolSize = DEFAULT_POOL_SIZE } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error('schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)');
  }
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error('poolSize must be a positive integer');
  const applied = await migrate(url, schema);
  const pool = newPool(url, schema, {
    max: poolSize,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const engine = {
    name: 'postgres' as const,
    isUniqueViolation: isPgUniqueViolation,
    prepared: {
      users: new PostgresUserStore(db, pool),
      sessions: new PostgresSessionStore(db, pool),
      refreshTokens: new PostgresRefreshTokenStore(db, pool),
    },
  };
  return new SqlStores(engine, db, applied);
}

/**
 * Migrations run on a connection of their own without the statement timeout: waiting for the
 * migration lock while another node migrates, or building an index on a big table, may
 * rightly take longer than any request should.
 */
async function migrate(url: string, schema: string | undefined): Promise<string[]> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: newPool(url, schema, { max: 1 }) }),
  });
  try {
    if (schema !== undefined) await createSchema(db, schema);
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = rows[0]?.schema;
    if (!current) throw new Error('no schema to create tables in: the search_path names no existing schema');
    return await migrateDespiteOthersDroppingSchemas(db, current);
  } finally {
    await db.destroy();
  }
}

/** How long to keep retrying a migration run that another client's schema drop spoiled. */
const SCHEMA_RACE_RETRY_MS = 15_000;

/**
 * kysely's Migrator asks "does our table exist?" by listing every table of the database; if
 * another client drops a schema meanwhile (other deployments or test runs sharing the
 * server), that listing fails with `schema "<theirs>" does not exist` before anything is
 * applied. Nothing was changed, so the run is simply tried again.
 */
async function migrateDespiteOthersDroppingSchemas(db: Kysely<unknown>, current: string): Promise<string[]> {
  const started = Date.now();
  for (;;) {
    try {
      return await migrateToLatest(db, { migrationTableSchema: current });
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      // `schema "…"`, or a relation of it, listed a moment before the drop.
      const spoiled = /^migrations not applied: .* does not exist$/.test(message);
      if (!spoiled || Date.now() - started > SCHEMA_RACE_RETRY_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  }
}

async function createSchema(db: Kysely<unknown>, schema: string): Promise<void> {
  // Look first: `create schema if not exists` needs the CREATE privilege on the database even
  // when the schema exists, which a node's least-privilege role lacks.
  const { rows } = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
  if (rows.length > 0) return;
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (error) {
    // Two nodes creating it at once: `if not exists` can still fail the loser with a
    // unique violation on the catalog; the schema is there either way.
    const code = (error as { code?: unknown })?.code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

function newPool(url: string, schema: string | undefined, config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    // Connect timeout, TCP keepalive, and an 'error' handler on every connection, idle or in use.
    Client: FaultTolerantClient,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    // Names the connections in pg_stat_activity; a URL's own application_name wins.
    application_name: 'tessera',
    // Sent with the connection's start-up packet: no extra round trip, and every pooled
    // connection (including ones reopened after a failure) gets it. The name is checked above.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    ...config,
  });
  // An idle connection that dies (database restart, network cut) is dropped from the pool and
  // reported here; unhandled, the 'error' event would crash the process. The next query opens
  // a new connection, and /healthz reports the database while it is unreachable. (One that dies
  // while checked out is FaultTolerantClient's: see there.)
  pool.on('error', () => {});
  return pool;
}

/** SQLSTATE 23505 unique_violation. createUser asks: its id is 128 random bits, so it is the email. */
function isPgUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '23505';
}
