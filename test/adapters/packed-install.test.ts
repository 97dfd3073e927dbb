import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { PASSWORD, startTessera, TEST_CSRF_SECRET, type TestServer } from '../helpers.js';

/**
 * What an app that only verifies logins gets from `npm install tessera`: the package is packed
 * (`npm pack`, from the dist/ that `npm test` builds first), installed into an empty app in a
 * temp directory from the npm cache, and the app then runs tessera/express and tessera/forward
 * against a real Tessera. The server's drivers are optional peer dependencies (see
 * docs/ARCHITECTURE.md, "The package"), so none of them may arrive.
 */

// npm's own range semantics; present through the dev tooling (not a dependency of Tessera).
const semver = createRequire(import.meta.url)('semver') as { subset(sub: string, dom: string): boolean };
const run = promisify(execFile);
const SERVER_ONLY = ['better-sqlite3', '@node-rs/argon2', 'pg', 'ioredis'];
const npmVersion = (() => {
  try {
    return execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
if (!npmVersion) console.warn('SKIPPED test/adapters/packed-install.test.ts: npm cannot run here');

const APP = `import express from 'express';
import { createAuth } from 'tessera/express';
import { forwardToTessera } from 'tessera/forward';
import 'tessera/verify';
import 'tessera/fastify';
import 'tessera/hono';
import 'tessera/client';

const { requireAuth } = createAuth({
  mode: 'jwt', tesseraUrl: process.env.TESSERA_URL, issuer: process.env.TESSERA_ISSUER,
  csrfSecret: process.env.TESSERA_CSRF_SECRET,
});
const app = express();
app.use(forwardToTessera({ tesseraUrl: process.env.TESSERA_URL }));
app.use(express.json());
app.get('/me', requireAuth(), (req, res) => res.json(req.principal));
app.post('/transfers', requireAuth(), (req, res) => res.json({ ok: true, amount: req.body.amount }));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

describe.skipIf(!npmVersion)('the packed package in an empty app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-packed-'));
  const appDir = join(dir, 'app');
  let tessera: TestServer;
  let app: ChildProcess | undefined;
  afterAll(async () => {
    app?.kill();
    await tessera?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let installed: Set<string>;
  let installMode: string;
  beforeAll(async () => {
    if (!existsSync('dist/adapters/forward.js')) throw new Error('dist/ is missing: npm run build first');
    // --ignore-scripts: prepack would build again; `npm test` has just built dist/.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
    const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    expect(new Set(packed.files.map((file) => file.path.split('/')[0]))).toEqual(
      new Set(['dist', 'README.md', 'LICENSE', 'package.json']),
    );
    mkdirSync(appDir);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'verifying-app',
        private: true,
        type: 'module',
        dependencies: { tessera: `file:../${packed.filename}`, express: '^5.3.0' },
      }),
    );
    writeFileSync(join(appDir, 'app.mjs'), APP);
    const install = (mode: string) =>
      run('npm', ['install', mode, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: appDir });
    // The cache holds every tarball; packuments may be missing from it, then npm asks the registry.
    installMode = '--offline';
    await install(installMode).catch(() => {
      installMode = '--prefer-offline';
      return install(installMode);
    });
    const tree = JSON.parse((await run('npm', ['ls', '--all', '--json'], { cwd: appDir })).stdout);
    installed = new Set();
    type Node = { version?: string; missing?: boolean; dependencies?: Record<string, Node> };
    const walk = (node: Node) => {
      for (const [name, child] of Object.entries(node.dependencies ?? {})) {
        // npm ls also lists optional peers it did not install: without a version, `missing`.
        if (child.version === undefined || child.missing) continue;
        installed.add(name);
        walk(child);
      }
    };
    walk(tree);
    // The real clock: the app in its own process verifies the tokens with its own.
    tessera = await startTessera({ env: { TESSERA_MODE: 'jwt' }, runtime: systemRuntime });
  }, 120_000);

  it('installs none of the server drivers: no SQLite to compile, no argon2, pg or ioredis', () => {
    console.log(`npm ${npmVersion} install ${installMode}: ${installed.size} packages`);
    expect(installed.has('tessera')).toBe(true);
    expect(SERVER_ONLY.filter((name) => installed.has(name))).toEqual([]);
    expect(existsSync(join(appDir, 'node_modules', 'better-sqlite3'))).toBe(false);
  });

  it("runs on tessera's Node floor: every installed package accepts it (no cookie@2)", () => {
    // cookie@2 declares Node >= 22. @fastify/cookie >= 11.1.1 and light-my-request >= 6.8 (fastify's
    // inject) take it, so tessera pins @fastify/cookie 11.1.0 and light-my-request 6.6.0 (cookie@1),
    // and npm gives fastify that copy. docs/ARCHITECTURE.md, "The package".
    const floor = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines
      .node;
    const refusing: string[] = [];
    const visit = (modules: string) => {
      if (!existsSync(modules)) return;
      for (const entry of readdirSync(modules)) {
        if (entry.startsWith('.')) continue;
        if (entry.startsWith('@')) {
          visit(join(modules, entry));
          continue;
        }
        const manifest = join(modules, entry, 'package.json');
        if (!existsSync(manifest)) continue;
        const { name, version, engines } = JSON.parse(readFileSync(manifest, 'utf8'));
        if (engines?.node && !semver.subset(floor, engines.node))
          refusing.push(`${name}@${version} wants node ${engines.node}`);
        visit(join(modules, entry, 'node_modules'));
      }
    };
    visit(join(appDir, 'node_modules'));
    expect(refusing).toEqual([]);
  });

  it('the tessera command says in one line which drivers the server needs', async () => {
    const failed = await run(
      process.execPath,
      [join(appDir, 'node_modules/tessera/dist/cli/bin.js'), '--version'],
      {
        cwd: appDir,
      },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim().split('\n')).toEqual([
      `tessera: the server needs ${SERVER_ONLY.join(', ')}, which this install lacks: npm install ${SERVER_ONLY.join(' ')}`,
    ]);
  });

  it('tessera/express and tessera/forward work: log in through the app, call its API, get the SDK', async () => {
    const tesseraUrl = await tessera.app.listen({ port: 0, host: '127.0.0.1' });
    const email = `packed.${process.pid}@example.com`;
    await tessera.tessera.accounts.register({ email, password: PASSWORD });
    app = spawn(process.execPath, ['app.mjs'], {
      cwd: appDir,
      env: {
        ...process.env,
        TESSERA_URL: tesseraUrl,
        TESSERA_ISSUER: tessera.tessera.config.jwt.issuer,
        TESSERA_CSRF_SECRET: TEST_CSRF_SECRET,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve, reject) => {
      app?.stdout?.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match) resolve(match[1] as string);
      });
      app?.once('exit', (code) => reject(new Error(`the app exited (${code})`)));
    });
    const origin = `http://127.0.0.1:${port}`;

    const login = await fetch(`${origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    expect(cookies).toMatch(/__Host-tessera_at=/);
    const me = await fetch(`${origin}/me`, { headers: { cookie: cookies } });
    expect([me.status, me.status === 200 ? '' : await me.clone().text()]).toEqual([200, '']);
    expect(((await me.json()) as { userId: string }).userId).toBe(
      ((await login.json()) as { user: { id: string } }).user.id,
    );
    const csrf = (await (await fetch(`${origin}/auth/csrf`, { headers: { cookie: cookies } })).json()) as {
      csrfToken: string;
    };
    const transfer = await fetch(`${origin}/transfers`, {
      method: 'POST',
      headers: { cookie: cookies, 'content-type': 'application/json', 'x-csrf-token': csrf.csrfToken },
      body: JSON.stringify({ amount: 5 }),
    });
    expect(transfer.status).toBe(200);
    expect(await transfer.json()).toEqual({ ok: true, amount: 5 });
    expect((await fetch(`${origin}/me`)).status).toBe(401);

    const sdk = await fetch(`${origin}/tessera/client.js`);
    expect(sdk.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await sdk.text()).toMatch(/export function createTesseraClient/);
  }, 60_000);
});
