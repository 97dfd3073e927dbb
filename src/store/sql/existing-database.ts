import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

/**
 * For operator tools (the CLI): is the configured database there, and is it Tessera's? Looks
 * without creating anything: opening a store would create an empty SQLite file (and tables)
 * wherever the command happens to run, and a lock would then "succeed" on a database no
 * server reads. Returns the problem as a sentence for the operator, or undefined when fine.
 */
export async function problemWithExistingDatabase(
  database:
    | { engine: 'memory' }
    | { engine: 'sqlite'; filename: string }
    | { engine: 'postgres'; url: string },
): Promise<string | undefined> {
  switch (database.engine) {
    case 'memory':
      return 'TESSERA_DATABASE_URL=memory: lives inside one server process; no other command can reach it';
    case 'sqlite':
      return sqliteProblem(database.filename);
    case 'postgres':
      return postgresProblem(database.url);
  }
}

const NOT_TESSERA =
  'has no Tessera tables: point TESSERA_DATABASE_URL at the database the server uses, or create one with tessera migrate';

function sqliteProblem(filename: string): string | undefined {
  if (filename === ':memory:')
    return 'an in-memory SQLite database lives inside one process; no other command can reach it';
  if (!existsSync(filename)) {
    return `there is no database at ${filename}: point TESSERA_DATABASE_URL at the database the server uses (sqlite:///absolute/path.db), or create one with tessera migrate`;
  }
  let database: BetterSqlite3.Database | undefined;
  try {
    database = new BetterSqlite3(filename, { fileMustExist: true });
    const row = database
      .prepare("select count(*) as n from sqlite_master where type = 'table' and name = 'users'")
      .get() as {
      n: number;
    };
    return row.n === 1 ? undefined : `the database ${filename} ${NOT_TESSERA}`;
  } catch (error) {
    return `${filename} cannot be read as an SQLite database (${(error as Error).message})`;
  } finally {
    database?.close();
  }
}

async function postgresProblem(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ users: string | null }>(
      "select to_regclass('users')::text as users",
    );
    return rows[0]?.users ? undefined : `the database ${NOT_TESSERA}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
