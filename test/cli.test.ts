import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../src/core/runtime.js';
import { CLI, cleanEnv, runCli as runCliIn } from './cli-process.js';
import { PASSWORD, post, sessionCookieOf, startTessera, tempDir, withSession } from './helpers.js';
import { loginWithSecondFactor, totpAt } from './mfa-helpers.js';

/** Each command runs in a fresh temp dir, so relative defaults (./data) never touch the repo. */
const runCli = (args: string[], env: Record<string, string>, stdin = '') =>
  runCliIn(args, env, stdin, tempDir());

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

describe('tessera serve', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('starts with no configuration: SQLite in ./data/tessera.db, session mode, migrations applied', async () => {
    const cwd = tempDir();
    server = spawn(process.execPath, [CLI, 'serve'], { env: cleanEnv({ TESSERA_PORT: '0' }), cwd });
    let output = '';
    const address = await new Promise<string>((resolveAddress, reject) => {
      server?.stdout?.on('data', (chunk) => {
        output += chunk;
        const match = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(output);
        if (match) resolveAddress(match[1] as string);
      });
      server?.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
    });
    expect(output).toContain('"mode":"session"');
    const health = await fetch(`${address}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', store: 'sqlite' });
    expect(existsSync(join(cwd, 'data', 'tessera.db'))).toBe(true);

    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad setting with one line that names the variable', async () => {
    const result = await runCli(['serve'], { TESSERA_PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^tessera: invalid configuration: TESSERA_PORT .*"abc"/),
    ]);
  });
});

describe('operator commands', () => {
  it('creates a user from stdin, lists users and sessions, and revokes sessions', async () => {
    const databaseUrl = `sqlite://${join(tempDir(), 'ops.db')}`;
    const env = { TESSERA_DATABASE_URL: databaseUrl };
    expect((await runCli(['migrate'], env)).code).toBe(0);

    const created = await runCli(
      ['users', 'create', '--email', 'Ops@Example.com', '--role', 'admin'],
      env,
      `${PASSWORD}\n`,
    );
    expect(created.stderr).toMatch(
      /^tessera: database sqlite \S+ops\.db, no server has recorded its mode yet\n$/,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/created user \S+ Ops@example.com roles=\[admin\]/);
    expect(created.stdout).not.toContain(PASSWORD);

    const weak = await runCli(['users', 'create', '--email', 'weak@example.com'], env, 'password\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/\ntessera: .*common/);

    const users = await runCli(['users', 'list'], env);
    expect(users.stdout).toMatch(/Ops@example.com\troles=\[admin\]/);

    // The real clock: the CLI judges expiry by it too.
    const server = await startTessera({ env, runtime: systemRuntime });
    // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    const login = await loginWithSecondFactor(server.app, { email: 'Ops@example.com', password: PASSWORD });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.roles).toEqual(['admin']);
    const token = sessionCookieOf(login) as string;
    const sessionId = token.split('.')[0] as string;

    const list = await runCli(['sessions', 'list', '--user', 'Ops@example.com'], env);
    expect(list.stdout).toContain(sessionId);
    expect(list.stdout).not.toContain(token);

    const revoke = await runCli(['sessions', 'revoke', '--user', 'Ops@example.com'], env);
    expect(revoke.stdout).toContain('revoked 1 session(s)');
    const after = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: withSession(token),
    });
    expect(after.statusCode).toBe(401);

    const missing = await runCli(['sessions', 'revoke', 'no-such-id'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no session with id no-such-id');
    await server.close();
  });
});

describe('control from the command line', () => {
  it('locks and unlocks an account, changes roles, and logs everyone out, all audited', async () => {
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'control.db')}` };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    expect((await runCli(['users', 'create', '--email', 'ctl@example.com'], env, `${PASSWORD}\n`)).code).toBe(
      0,
    );
    const server = await startTessera({ env, runtime: systemRuntime });
    const login = () =>
      post(server.app, '/auth/login', { email: 'ctl@example.com', password: PASSWORD, transport: 'bearer' });
    const token = (await login()).json().token as string;
    const whoAmI = () =>
      server.app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: { authorization: `Bearer ${token}` },
      });

    const roles = await runCli(['users', 'roles', 'ctl@example.com', 'teller', 'auditor'], env);
    expect(roles.stdout).toContain('effective from the next request');
    expect((await whoAmI()).json().user.roles).toEqual(['teller', 'auditor']);

    const lock = await runCli(['users', 'lock', 'ctl@example.com', '--reason', 'fraud review'], env);
    expect(lock.stdout).toContain('ended 1 session(s)');
    expect((await whoAmI()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(401);
    await runCli(['users', 'unlock', 'ctl@example.com'], env);
    expect((await login()).statusCode).toBe(200);

    expect((await runCli(['sessions', 'logout-everyone'], env)).stdout).toContain('ended 1 session(s)');
    const audit = await runCli(['audit', '--user', 'ctl@example.com'], env);
    for (const type of ['user.locked', 'user.unlocked', 'user.roles_changed', 'login.succeeded']) {
      expect(audit.stdout, type).toContain(type);
    }
    await server.close();
  });
});

describe('tessera users mfa-reset', () => {
  it("removes a user's authenticator app and recovery codes, ends their logins, audited; unknown email exits 1", async () => {
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'mfa-reset.db')}` };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    expect(
      (await runCli(['users', 'create', '--email', 'lost@example.com'], env, `${PASSWORD}\n`)).code,
    ).toBe(0);
    const server = await startTessera({ env, runtime: systemRuntime });
    try {
      const login = await post(server.app, '/auth/login', {
        email: 'lost@example.com',
        password: PASSWORD,
        transport: 'bearer',
      });
      const headers = { authorization: `Bearer ${login.json().token}` };
      const begin = await server.app.inject({ method: 'POST', url: '/auth/mfa/totp', headers });
      const code = totpAt(begin.json().secret, Date.now());
      const confirm = await server.app.inject({
        method: 'POST',
        url: '/auth/mfa/totp/confirm',
        headers,
        payload: { code },
      });
      expect(confirm.statusCode, confirm.body).toBe(200);

      const reset = await runCli(['users', 'mfa-reset', 'lost@example.com'], env);
      expect(reset.code, reset.stderr).toBe(0);
      expect(reset.stdout).toContain(
        'reset the second factors of lost@example.com (authenticator app: removed, recovery codes removed: 10); ended 1 session(s)',
      );
      expect((await server.app.inject({ method: 'GET', url: '/auth/sessions', headers })).statusCode).toBe(
        401,
      );
      const again = await post(server.app, '/auth/login', {
        email: 'lost@example.com',
        password: PASSWORD,
        transport: 'bearer',
      });
      expect(again.json().session.amr).toEqual(['pwd']);
      const [event] = await server.tessera.audit.list({ type: 'mfa.reset' });
      expect(event).toMatchObject({ actorId: null, userId: login.json().user.id });

      const unknown = await runCli(['users', 'mfa-reset', 'nobody@example.com'], env);
      expect(unknown.code).toBe(1);
    } finally {
      await server.close();
    }
  });
});
