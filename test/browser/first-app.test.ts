import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv } from '../cli-process.js';
import { tempDir } from '../helpers.js';
import { readmeSnippets } from '../readme-snippets.js';
import { browserAvailable, launchBrowser } from './browser.js';

/**
 * README's "Your first app", steps 3 to 5, as a newcomer follows them: its page.js and server.js
 * blocks verbatim in a fresh project (`tessera` installed, `type: module`), a real `tessera serve`
 * (built dist/), and Chromium logging in on the app's origin. Only `localhost:3000` and port 4000
 * are rewritten to free ports.
 */

const REPO = resolve('.');
const CSRF_SECRET = 'first-app-test-anti-csrf-secret-0123456789abcdef';
const snippets = readmeSnippets(join(REPO, 'README.md'));
const pageBlock = snippets.find((s) => s.file === 'page.js');
const serverBlock = (id: string) => snippets.find((s) => s.id === id);

async function unusedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function answering(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited ${child.exitCode}`);
    if (
      await fetch(url).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

describe.skipIf(!browserAvailable("README's first app in a real browser"))(
  "README's first app in a real browser",
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    for (const [id, mode] of [
      ['first-app-express', 'jwt'],
      ['first-app-fastify', 'session'],
      ['first-app-express', 'hybrid'],
      ['first-app-hono', 'jwt'],
    ] as const) {
      it(`${id} in ${mode} mode: log in, "Signed in as", the API, log out`, async () => {
        const block = serverBlock(id);
        expect(pageBlock, 'README has a file=page.js block').toBeDefined();
        expect(block, `README has a block id=${id}`).toBeDefined();
        const dir = tempDir();
        writeFileSync(join(dir, 'package.json'), '{"name":"my-app","private":true,"type":"module"}\n');
        mkdirSync(join(dir, 'node_modules'));
        for (const entry of readdirSync(join(REPO, 'node_modules'))) {
          if (entry !== '.bin')
            symlinkSync(join(REPO, 'node_modules', entry), join(dir, 'node_modules', entry));
        }
        symlinkSync(REPO, join(dir, 'node_modules', 'tessera'));
        const [tesseraPort, appPort] = [await unusedPort(), await unusedPort()];
        const rewrite = (code: string) =>
          code.replaceAll('localhost:3000', `localhost:${tesseraPort}`).replace(/\b4000\b/g, String(appPort));
        writeFileSync(join(dir, 'page.js'), pageBlock?.code ?? '');
        writeFileSync(join(dir, 'server.js'), rewrite(block?.code ?? ''));
        const env = cleanEnv({
          TESSERA_MODE: mode,
          TESSERA_CSRF_SECRET: CSRF_SECRET,
          TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}`,
        });
        const children: ChildProcess[] = [];
        const context = await browser.newContext();
        try {
          const tessera = spawn(process.execPath, [CLI, 'serve'], {
            cwd: dir,
            env: {
              ...env,
              TESSERA_PORT: String(tesseraPort),
              TESSERA_TRUSTED_PROXIES: 'loopback',
              TESSERA_LOG_LEVEL: 'warn',
              TESSERA_MAIL_OUTBOX_DIR: join(dir, 'outbox'),
            },
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          children.push(tessera);
          await answering(`http://127.0.0.1:${tesseraPort}/healthz`, tessera);
          const app = spawn(process.execPath, ['server.js'], {
            cwd: dir,
            env,
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          children.push(app);
          await answering(`http://127.0.0.1:${appPort}/`, app);

          // Step 5's account (the README registers it with curl against Tessera).
          const email = 'grace@example.com';
          const registered = await fetch(`http://localhost:${tesseraPort}/auth/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password: 'plum-Vortex-48-glacier-ink' }),
          });
          expect(registered.status).toBe(201);

          const page = await context.newPage();
          const errors: string[] = [];
          page.on('console', (m) => {
            if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
          });
          page.on('pageerror', (error) => errors.push(error.message));
          await page.goto(`http://localhost:${appPort}/`);
          await page.fill('#password', 'not the password');
          await page.fill('#email', email);
          await page.click('button');
          await expect.poll(() => page.textContent('#status')).toMatch(/^The email or password is not right/);

          await page.fill('#password', 'plum-Vortex-48-glacier-ink');
          await page.click('button');
          await expect.poll(() => page.textContent('#status')).toBe(`Signed in as ${email}`);
          // The app's own API, with the cookies the forwarder brought to this origin.
          const me = await page.evaluate(async () => (await fetch('/me')).status);
          expect(me).toBe(200);
          await page.reload();
          await expect.poll(() => page.textContent('#status')).toBe(`Signed in as ${email}`);

          await page.click('#logout');
          await expect.poll(() => page.textContent('#status')).toBe('You logged out.');
          expect(await page.evaluate(async () => (await fetch('/me')).status)).toBe(401);
          expect(errors).toEqual([]);
        } finally {
          await context.close();
          for (const child of children.reverse()) {
            if (child.exitCode === null) {
              child.kill('SIGTERM');
              await once(child, 'exit');
            }
          }
        }
      }, 90_000);
    }
  },
);
