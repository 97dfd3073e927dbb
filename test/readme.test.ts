import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv } from './cli-process.js';
import { tempDir } from './helpers.js';
import { type Mode, readmeSnippets, type Snippet } from './readme-snippets.js';

/**
 * README.md's code blocks run as a reader would run them, against a real `tessera serve`
 * (built dist/, SQLite in a temp dir, an unused port) in every mode each block claims; the
 * marker convention is in test/readme-snippets.ts. curl is the system's, wrapped only to
 * report each response's status on stderr (its stdout, which the blocks pipe, is untouched).
 */
const REPO = resolve('.');
const CSRF_SECRET = 'readme-test-anti-csrf-secret-0123456789abcdef';
const snippets = readmeSnippets(join(REPO, 'README.md'));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

/** A directory a reader's project could be: `tessera` installed, npx tessera works, a curl that reports statuses. */
function readerWorkspace(): { dir: string; path: string } {
  const dir = tempDir();
  // As README's "Your first app" sets it up (npm pkg set type=module): page.js is an ES module.
  writeFileSync(join(dir, 'package.json'), '{"name":"my-app","private":true,"type":"module"}\n');
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry !== '.bin' && entry !== 'tessera')
      symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(REPO, join(modules, 'tessera'));
  const bin = join(modules, '.bin', 'tessera');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(bin, 0o755);
  const shims = join(dir, 'shims');
  mkdirSync(shims);
  const curl = join(shims, 'curl');
  // The response body still goes to stdout unchanged; a copy and the status go to stderr.
  writeFileSync(
    curl,
    [
      '#!/bin/sh',
      'body=$(mktemp)',
      `/usr/bin/curl -o "$body" -w '%{stderr}readme-test-status %{http_code} %{url_effective}\\n' "$@"`,
      'rc=$?',
      'cat "$body"',
      'printf "readme-test-body %s\\n" "$(base64 -w0 "$body")" >&2',
      'rm -f "$body"',
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(curl, 0o755);
  return { dir, path: `${shims}:${process.env.PATH}` };
}

async function unusedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Every curl response of the block, in order, with its body. */
  statuses: Array<{ status: number; url: string; body: string }>;
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000) {
  const child = spawn(command, args, { env, cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  const bodies = [...stderr.matchAll(/^readme-test-body (\S*)$/gm)].map((m) =>
    Buffer.from(m[1] as string, 'base64').toString(),
  );
  const statuses = [...stderr.matchAll(/^readme-test-status (\d+) (\S*)$/gm)].map((m, i) => ({
    status: Number(m[1]),
    url: m[2] as string,
    body: bodies[i] ?? '',
  }));
  return { code: code as number, stdout, stderr, statuses } satisfies Run;
}

class ReadmeServer {
  child!: ChildProcess;
  port = 0;
  url = '';
  readonly workspace = readerWorkspace();
  readonly database = `sqlite://${join(this.workspace.dir, 'data', 'tessera.db')}`;
  #users = 0;

  constructor(readonly mode: Mode) {}

  async start(): Promise<void> {
    this.port = await unusedPort();
    this.url = `http://localhost:${this.port}`;
    this.child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: this.workspace.dir,
      env: cleanEnv({
        TESSERA_MODE: this.mode,
        TESSERA_PORT: String(this.port),
        TESSERA_DATABASE_URL: this.database,
        TESSERA_CSRF_SECRET: CSRF_SECRET,
        TESSERA_LOG_LEVEL: 'warn',
      }),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let attempt = 0; ; attempt++) {
      if (this.child.exitCode !== null) throw new Error(`tessera serve exited ${this.child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (attempt > 300) throw new Error('tessera serve did not answer /healthz within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
  }

  /** A registered user's fresh access token (session mode: session token), by a bearer login. */
  async token(): Promise<string> {
    const email = `reader${++this.#users}@example.com`;
    const password = 'a long and unusual passphrase 4 readme';
    const json = { 'content-type': 'application/json' };
    const registered = await fetch(`${this.url}/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password }),
    });
    expect(registered.status).toBe(201);
    const login = await fetch(`${this.url}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password, transport: 'bearer' }),
    });
    const body = (await login.json()) as { token?: string; accessToken?: string };
    return (body.accessToken ?? body.token) as string;
  }

  /** The block as it runs here: the documented host names point at this server. */
  rewrite(code: string, appPort?: number): string {
    let out = code
      .replaceAll('localhost:3000', `localhost:${this.port}`)
      .replaceAll('https://auth.example.com', this.url);
    if (appPort !== undefined) out = out.replace(/\b4000\b/g, String(appPort));
    return out;
  }

  env(): NodeJS.ProcessEnv {
    return {
      // As a reader's second terminal has them: the mode and secret exported (README "Your first app").
      ...cleanEnv({
        TESSERA_DATABASE_URL: this.database,
        TESSERA_CSRF_SECRET: CSRF_SECRET,
        TESSERA_MODE: this.mode,
      }),
      PATH: this.workspace.path,
    };
  }

  async runShell(snippet: Snippet): Promise<Run> {
    const script = `set -eu -o pipefail\n${this.rewrite(snippet.code)}\n`;
    return run('bash', ['-c', script], this.env(), this.workspace.dir);
  }

  /** A resource server's client credentials (from the CLI) and a request bearing an OAuth access token for it. */
  async oauthRequest(): Promise<string> {
    const created = await run(
      process.execPath,
      [
        CLI,
        'clients',
        'create',
        '--name',
        'Accounts API',
        '--scope',
        'accounts:read',
        '--audience',
        'https://api.example.com',
      ],
      this.env(),
      this.workspace.dir,
    );
    expect(created.code, created.stderr).toBe(0);
    const clientId = /client_id=(\S+)/.exec(created.stdout)?.[1] as string;
    const clientSecret = /client_secret=(\S+)/.exec(created.stdout)?.[1] as string;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const response = await fetch(`${this.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts:read' }),
    });
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const req = { headers: { authorization: `Bearer ${access_token}` } };
    return [
      `const req = ${JSON.stringify(req)};`,
      `const clientId = ${JSON.stringify(clientId)};`,
      `const clientSecret = ${JSON.stringify(clientSecret)};`,
      '',
    ].join('\n');
  }

  async runJs(snippet: Snippet): Promise<Run> {
    let given = snippet.given.includes('token')
      ? `const token = ${JSON.stringify(await this.token())};\n`
      : '';
    if (snippet.given.includes('oauth')) given += await this.oauthRequest();
    const file = join(this.workspace.dir, snippet.file ?? `snippet-${snippet.line}.mjs`);
    writeFileSync(file, `${given}${this.rewrite(snippet.code)}\n`);
    return run(process.execPath, [file], this.env(), this.workspace.dir);
  }

  /** Starts an app block, calls its routes with a real token, stops it. */
  async runApp(snippet: Snippet): Promise<void> {
    const appPort = await unusedPort();
    const file = join(this.workspace.dir, `app-${snippet.line}.mjs`);
    writeFileSync(file, `${this.rewrite(snippet.code, appPort)}\n`);
    const app = spawn(process.execPath, [file], {
      cwd: this.workspace.dir,
      env: this.env(),
      stdio: 'inherit',
    });
    try {
      const token = await this.token();
      const call = async (path: string, method = 'GET') => {
        for (let attempt = 0; attempt < 200; attempt++) {
          if (app.exitCode !== null) throw new Error(`the app exited ${app.exitCode}`);
          try {
            return await fetch(`http://127.0.0.1:${appPort}${path}`, {
              method,
              headers: { authorization: `Bearer ${token}` },
            });
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        throw new Error('the app never answered');
      };
      const me = await call('/me');
      expect(me.status).toBe(200);
      expect(JSON.stringify(await me.json())).toMatch(/"(userId|sub|id)":/);
      // A fresh user has no roles: the teller-only route refuses it.
      const transfer = await call('/transfers', 'POST');
      expect(transfer.status).toBe(403);
      expect(((await transfer.json()) as { error: string }).error).toBe('forbidden');
      const anonymous = await fetch(`http://127.0.0.1:${appPort}/me`);
      expect(anonymous.status).toBe(401);
    } finally {
      app.kill('SIGTERM');
      if (app.exitCode === null) await once(app, 'exit');
    }
  }
}

/** What a block claims beyond "it runs": checked here by id. */
const CLAIMS: Record<string, (run: Run, mode: Mode) => void> = {
  'curl-tour': (result, mode) => {
    const statuses = result.statuses.map((s) => s.status);
    // register, login, who am I, devices, logout, who am I again
    expect(statuses).toEqual([201, 200, 200, 200, 204, mode === 'jwt' ? 200 : 401]);
    const whoAmI = JSON.parse(result.statuses[2]?.body as string);
    expect(whoAmI.user).toMatchObject({ email: 'ada@example.com', roles: [] });
    expect(whoAmI.session.mode).toBe(mode);
    const after = result.statuses[5]?.body as string;
    if (mode === 'session') expect(JSON.parse(after).error).toBe('unauthenticated');
    if (mode === 'hybrid') expect(JSON.parse(after).error).toBe('token_revoked');
  },
  'clients-create': (result) => {
    expect(result.stdout).toMatch(/created client \S+ \(confidential\) grants=\[authorization_code\]/);
    expect(result.stdout).toMatch(/created client \S+ \(confidential\) grants=\[client_credentials\]/);
  },
  'webhooks-create': (result) => {
    expect(result.stdout).toMatch(
      /created webhook wh_\S+ \(standard\) events=\[session\.revoked,user\.locked,login\.failed\]/,
    );
    expect(result.stdout).toMatch(/secret=whsec_\S+\t\(shown once/);
    expect(result.stdout).toMatch(
      /created webhook wh_\S+ \(set\) events=\[session\.revoked,password\.changed\]/,
    );
    expect(result.stdout).toMatch(/\tset\thttps:\/\/apps\.example\.com\/ssf\/push\tevents=/);
  },
};

describe('README.md code blocks', () => {
  it('every shell and JS block says how it is tested (readme-test marker)', () => {
    const unmarked = snippets.filter((s) => s.kind === 'unmarked').map((s) => `README.md:${s.line}`);
    expect(unmarked).toEqual([]);
    expect(snippets.filter((s) => s.kind === 'run').length).toBeGreaterThanOrEqual(3);
  });

  describe.each(['session', 'jwt', 'hybrid'] as const)('against tessera serve in %s mode', (mode) => {
    const server = new ReadmeServer(mode);
    beforeAll(() => server.start(), 60_000);
    afterAll(() => server.stop());
    const mine = snippets.filter((s) => s.kind !== 'skip' && s.kind !== 'unmarked' && s.modes.includes(mode));

    it.each(
      mine.map((snippet) => ({ snippet, name: `README.md:${snippet.line} ${snippet.id ?? snippet.kind}` })),
    )(
      '$name',
      async ({ snippet }) => {
        if (snippet.kind === 'app') return server.runApp(snippet);
        const result =
          snippet.language === 'sh' ? await server.runShell(snippet) : await server.runJs(snippet);
        expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
        if (snippet.id && CLAIMS[snippet.id]) CLAIMS[snippet.id]?.(result, mode);
        else for (const { status, url } of result.statuses) expect(status, url).toBeLessThan(400);
      },
      120_000,
    );
  });
});
