import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEmailKey } from '../src/core/email-key.js';
import { systemRuntime } from '../src/core/runtime.js';
import { CLI, cleanEnv, runCli as runCliIn } from './cli-process.js';
import { runInTerminal } from './cli-terminal.js';
import { PASSWORD, startTessera, tempDir } from './helpers.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from './services.js';

/**
 * The CLI finds the server's database or refuses, says which one it opened, and its control
 * actions reach a running hybrid server whatever its own TESSERA_MODE (issue 14 item 4, 16).
 */
const runCli = (args: string[], env: Record<string, string>, stdin = '', cwd = tempDir()) =>
  runCliIn(args, env, stdin, cwd);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

/** `tessera serve` as a real process on an unused port; its log lines are kept. */
async function serveProcess(env: Record<string, string>, cwd = tempDir()) {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({ TESSERA_PORT: '0', ...env }),
    cwd,
  });
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      log += chunk;
      const match = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(log);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
  return {
    url,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child as ChildProcess, 'exit');
      }
    },
  };
}

const json = { 'content-type': 'application/json' };
async function bearerLogin(url: string, email: string): Promise<string> {
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  });
  expect(login.status).toBe(200);
  const body = (await login.json()) as { accessToken?: string; token?: string };
  return (body.accessToken ?? body.token) as string;
}

/** Polls GET /auth/session until it is refused; the milliseconds it took (or throws after 15 s). */
async function refusedWithin(url: string, token: string): Promise<{ ms: number; error: string }> {
  const start = Date.now();
  for (;;) {
    const response = await fetch(`${url}/auth/session`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401)
      return { ms: Date.now() - start, error: ((await response.json()) as { error: string }).error };
    if (Date.now() - start > 15_000)
      throw new Error('the token was still accepted 15 s after the CLI action');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('database discovery', () => {
  it('never creates a database: a missing file is refused in one line and stays missing', async () => {
    const cwd = tempDir();
    for (const args of [
      ['users', 'list'],
      ['sessions', 'list'],
      ['audit'],
      ['users', 'lock', 'a@example.com', '--reason', 'x'],
    ]) {
      const result = await runCli(args, {}, '', cwd);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `tessera: there is no database at ${join(cwd, 'data', 'tessera.db')}: point TESSERA_DATABASE_URL at the database the server uses (sqlite:///absolute/path.db), or create one with tessera migrate`,
      ]);
    }
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('refuses an SQLite file that holds no Tessera tables, and one that is not SQLite at all', async () => {
    const dir = tempDir();
    const other = join(dir, 'other.db');
    const database = new BetterSqlite3(other);
    database.exec('create table notes (id integer primary key)');
    database.close();
    const foreign = await runCli(['users', 'list'], { TESSERA_DATABASE_URL: `sqlite://${other}` });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toBe(
      `tessera: the database ${other} has no Tessera tables: point TESSERA_DATABASE_URL at the database the server uses, or create one with tessera migrate\n`,
    );
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n'.repeat(200));
    const notSqlite = await runCli(['users', 'list'], { TESSERA_DATABASE_URL: `sqlite://${text}` });
    expect(notSqlite.code).toBe(1);
    expect(notSqlite.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^tessera: .*notes\.txt cannot be read as an SQLite database/),
    ]);
    expect(readFileSync(text, 'utf8')).toBe('hello\n'.repeat(200));
  });

  it('refuses memory:, which no other process can reach', async () => {
    const result = await runCli(['users', 'list'], { TESSERA_DATABASE_URL: 'memory:' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tessera: TESSERA_DATABASE_URL=memory: lives inside one server process/);
  });

  it('on PostgreSQL: refuses a schema without Tessera tables, names the database with its password redacted', async () => {
    const url = await serviceUrlOrSkip('postgres', 'CLI database discovery on PostgreSQL');
    if (!url) return;
    try {
      const schema = testSchema();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`create schema "${schema}"`);
      await client.end();
      const withSchema = new URL(url);
      if (!withSchema.password) withSchema.password = 'not-used-with-trust';
      withSchema.searchParams.set('options', `-c search_path=${schema}`);
      const env = { TESSERA_DATABASE_URL: withSchema.toString() };
      const empty = await runCli(['users', 'list'], env);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toMatch(/^tessera: the database has no Tessera tables/);
      expect((await runCli(['migrate'], env)).code).toBe(0);
      const listed = await runCli(['users', 'list'], env);
      expect(listed.code).toBe(0);
      expect(listed.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^tessera: database postgres:\/\/\S*:\*\*\*@\S+, no server has recorded its mode yet$/,
        ),
      ]);
      expect(listed.stderr).not.toContain('not-used-with-trust');
    } finally {
      await dropTestSchemas(url);
    }
  });
});

describe('operator commands find what they need', () => {
  const env = { TESSERA_DATABASE_URL: '' };
  beforeAll(async () => {
    env.TESSERA_DATABASE_URL = `sqlite://${join(tempDir(), 'ops.db')}`;
    expect((await runCli(['migrate'], env)).code).toBe(0);
  });

  it('--version prints the package version', async () => {
    const result = await runCli(['--version'], {});
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(result.stdout.trim()).toBe(version);
    expect(result.code).toBe(0);
  });

  it('validates role names as the console does, before anything is changed', async () => {
    const bad = await runCli(
      ['users', 'create', '--email', 'r@example.com', '--role', 'Bad Role'],
      env,
      `${PASSWORD}\n`,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('tessera: Roles are lower-case names');
    expect((await runCli(['users', 'list'], env)).stdout).not.toContain('r@example.com');
    expect((await runCli(['users', 'create', '--email', 'r@example.com'], env, `${PASSWORD}\n`)).code).toBe(
      0,
    );
    const roles = await runCli(['users', 'roles', 'r@example.com', 'ADMIN'], env);
    expect(roles.code).toBe(1);
    expect(roles.stderr).toContain('tessera: Roles are lower-case names');
  });

  it('users list and sessions list read page by page and print every row once', async () => {
    // More rows than one CLI page (500), seeded straight into the file: each list must chain
    // its pages (keyset, newest or address order) with no row lost or repeated at a boundary.
    const file = join(tempDir(), 'many.db');
    const many = { TESSERA_DATABASE_URL: `sqlite://${file}` };
    expect((await runCli(['migrate'], many)).code).toBe(0);
    const COUNT = 1_201;
    const db = new BetterSqlite3(file);
    const now = Date.now();
    const insertUser = db.prepare(
      `insert into users (id, email, email_key, password_hash, roles, locked_at, lock_reason, created_at, updated_at)
       values (?, ?, ?, 'not-a-real-hash', '[]', null, null, ?, ?)`,
    );
    const insertSession = db.prepare(
      `insert into sessions (id, user_id, mode, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
       values (?, ?, 'session', '', ?, ?, ?, '203.0.113.9', 'curl/8.5.0')`,
    );
    const emailOf = (i: number) => `bulk${String(i).padStart(4, '0')}@example.com`;
    db.transaction(() => {
      for (let i = 0; i < COUNT; i++) {
        insertUser.run(`u${i}`, emailOf(i), canonicalEmailKey(emailOf(i)), now, now);
        // pairs share a createdAt, so the id must break ties at page boundaries
        insertSession.run(`s${i}`, `u${i}`, now - 1_000 - (i - (i % 2)), now, now + 3_600_000);
      }
    })();
    db.close();

    const users = await runCli(['users', 'list'], many);
    expect(users.code, users.stderr).toBe(0);
    const listedEmails = users.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[1]);
    // in canonical-key order (look-alikes folded: 0 sorts as o), each address exactly once
    expect(listedEmails).toHaveLength(COUNT);
    expect([...listedEmails].sort()).toEqual(Array.from({ length: COUNT }, (_, i) => emailOf(i)));

    const searched = await runCli(['users', 'list', '--search', 'BULK000'], many);
    expect(searched.stdout.trim().split('\n')).toHaveLength(10);

    const sessions = await runCli(['sessions', 'list'], many);
    expect(sessions.code, sessions.stderr).toBe(0);
    const ids = sessions.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]);
    expect(new Set(ids).size).toBe(COUNT);
    expect(ids).toHaveLength(COUNT);
    expect(sessions.stdout).toContain(`user=u1200\temail=${emailOf(1200)}\t`);
  });

  it('shows emails in sessions list and audit; audit --type must be a known type', async () => {
    // The real clock: the CLI judges expiry by it too.
    const server = await startTessera({ env, runtime: systemRuntime });
    const email = 'listed@example.com';
    await server.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email, password: PASSWORD },
    });
    const login = await server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    await server.close();
    const sessions = await runCli(['sessions', 'list'], env);
    expect(sessions.stdout).toMatch(new RegExp(`user=\\S+\\temail=${email}\\t`));
    const audit = await runCli(['audit', '--type', 'login.succeeded'], env);
    expect(audit.stdout).toMatch(
      new RegExp(`login\\.succeeded\\tuser=\\S+\\temail=${email}\\tactor=${email}\\t`),
    );
    const unknown = await runCli(['audit', '--type', 'login.sucess'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /tessera: --type login\.sucess is not an event type; known: user\.registered, login\.succeeded, .*api_key\.revoked.*\n$/,
    );
  });

  it('at a terminal: users create asks for the password twice; Ctrl-C at a prompt prints one line', async () => {
    const cancelled = await runInTerminal(['users', 'create', '--email', 'tty@example.com'], env, [
      { prompt: 'Password: ', keys: '\u0003' },
    ]);
    expect(cancelled.code).toBe(130);
    const lines = cancelled.output.split('\n').filter((line) => line.trim() !== '');
    expect(lines.at(-1)).toBe('tessera: cancelled, nothing was changed');
    expect(cancelled.output).not.toMatch(/\n\s+at /);

    const differ = await runInTerminal(['users', 'create', '--email', 'tty@example.com'], env, [
      { prompt: 'Password: ', keys: `${PASSWORD}\r` },
      { prompt: 'Repeat the password: ', keys: `${PASSWORD}!\r` },
    ]);
    expect(differ.code).toBe(1);
    expect(differ.output).toContain('tessera: the two passwords differ; nothing was changed');
    expect(differ.output).not.toContain(PASSWORD);

    const same = await runInTerminal(['users', 'create', '--email', 'tty@example.com'], env, [
      { prompt: 'Password: ', keys: `${PASSWORD}\r` },
      { prompt: 'Repeat the password: ', keys: `${PASSWORD}\r` },
    ]);
    expect(same.code).toBe(0);
    expect(same.output).toMatch(/created user \S+ tty@example.com/);
    expect(same.output).not.toContain(PASSWORD);
  }, 60_000);
});

describe('the served mode is stored in the database', () => {
  it('a server records its mode; one starting in another mode warns, naming both', async () => {
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'modes.db')}` };
    const hybrid = await startTessera({ env: { ...env, TESSERA_MODE: 'hybrid' } });
    expect(hybrid.tessera.warnings.filter((w) => w.includes('served in'))).toEqual([]);
    await hybrid.close();
    const session = await startTessera({ env: { ...env, TESSERA_MODE: 'session' } });
    expect(session.tessera.storedMode?.mode).toBe('hybrid');
    expect(session.tessera.warnings).toContainEqual(
      expect.stringMatching(
        /^this database was served in hybrid mode \(since .*\); this node serves session mode\./,
      ),
    );
    await session.close();
    const list = await runCli(['users', 'list'], env);
    expect(list.stderr).toMatch(/^tessera: database sqlite \S+modes\.db, served in session mode\n$/);
  });
});

describe('control from the CLI reaches a running hybrid server whatever the CLI’s TESSERA_MODE', () => {
  const servers: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('lock (TESSERA_MODE unset), role change and session revoke (TESSERA_MODE=session): the token is refused within the poll bound', async () => {
    const database = `sqlite://${join(tempDir(), 'hybrid.db')}`;
    const server = await serveProcess({
      TESSERA_MODE: 'hybrid',
      TESSERA_DATABASE_URL: database,
      TESSERA_RATE_LIMIT: 'off',
    });
    servers.push(server);
    const cliEnv = { TESSERA_DATABASE_URL: database };
    for (const email of ['locked@example.com', 'roles@example.com', 'revoked@example.com']) {
      expect((await runCli(['users', 'create', '--email', email], cliEnv, `${PASSWORD}\n`)).code).toBe(0);
    }

    const lockedToken = await bearerLogin(server.url, 'locked@example.com');
    const lock = await runCli(['users', 'lock', 'locked@example.com', '--reason', 'fraud review'], cliEnv);
    expect(lock.code, lock.stderr).toBe(0);
    expect(lock.stderr).toMatch(/served in hybrid mode\n$/);
    const afterLock = await refusedWithin(server.url, lockedToken);
    expect(afterLock.error).toBe('token_revoked');

    const rolesToken = await bearerLogin(server.url, 'roles@example.com');
    const roles = await runCli(['users', 'roles', 'roles@example.com', 'teller'], {
      ...cliEnv,
      TESSERA_MODE: 'session',
    });
    expect(roles.code, roles.stderr).toBe(0);
    expect(roles.stderr).toContain(
      'tessera: note: TESSERA_MODE=session here, but the servers run hybrid mode',
    );
    expect(roles.stdout).toContain('effective from the next request');
    const afterRoles = await refusedWithin(server.url, rolesToken);
    expect(afterRoles.error).toBe('token_revoked');
    // A fresh login carries the new role at once.
    const renewed = await bearerLogin(server.url, 'roles@example.com');
    const session = await fetch(`${server.url}/auth/session`, {
      headers: { authorization: `Bearer ${renewed}` },
    });
    expect(((await session.json()) as { user: { roles: string[] } }).user.roles).toEqual(['teller']);

    const revokedToken = await bearerLogin(server.url, 'revoked@example.com');
    const revoke = await runCli(['sessions', 'revoke', '--user', 'revoked@example.com'], {
      ...cliEnv,
      TESSERA_MODE: 'session',
    });
    expect(revoke.stdout).toContain('revoked 1 session(s)');
    const afterRevoke = await refusedWithin(server.url, revokedToken);
    expect(afterRevoke.error).toBe('token_revoked');

    // The server polls the log every 2 s; on a loaded machine allow a wide margin.
    for (const { ms } of [afterLock, afterRoles, afterRevoke]) expect(ms).toBeLessThan(10_000);
    console.info(
      `CLI action → hybrid server refuses the token: lock ${afterLock.ms} ms, roles ${afterRoles.ms} ms, revoke ${afterRevoke.ms} ms (poll interval 2 s)`,
    );
  }, 90_000);

  it('on PostgreSQL: a lock with TESSERA_MODE unset travels over the LISTEN/NOTIFY bus to a hybrid server', async () => {
    const url = await serviceUrlOrSkip('postgres', 'CLI lock reaching a hybrid server on PostgreSQL');
    if (!url) return;
    try {
      const schema = testSchema();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`create schema "${schema}"`);
      await client.end();
      const withSchema = new URL(url);
      withSchema.searchParams.set('options', `-c search_path=${schema}`);
      const database = withSchema.toString();
      const server = await serveProcess({
        TESSERA_MODE: 'hybrid',
        TESSERA_DATABASE_URL: database,
        TESSERA_KEY_ENCRYPTION_KEY: 'b'.repeat(64),
        TESSERA_RATE_LIMIT: 'off',
      });
      servers.push(server);
      const cliEnv = { TESSERA_DATABASE_URL: database };
      expect(
        (await runCli(['users', 'create', '--email', 'pg@example.com'], cliEnv, `${PASSWORD}\n`)).code,
      ).toBe(0);
      const token = await bearerLogin(server.url, 'pg@example.com');
      const lock = await runCli(['users', 'lock', 'pg@example.com', '--reason', 'fraud review'], cliEnv);
      expect(lock.code, lock.stderr).toBe(0);
      expect(lock.stderr).toMatch(/^tessera: database postgres:\/\/\S+, served in hybrid mode\n$/);
      const refused = await refusedWithin(server.url, token);
      expect(refused.error).toBe('token_revoked');
      expect(refused.ms).toBeLessThan(10_000);
      console.info(`CLI lock → hybrid server on PostgreSQL refuses the token after ${refused.ms} ms`);
      await server.stop();
    } finally {
      await dropTestSchemas(url);
    }
  }, 90_000);
});
