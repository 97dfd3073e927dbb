import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, runCli } from '../cli-process.js';
import { PASSWORD, tempDir } from '../helpers.js';

/**
 * `tessera serve` as `npm start` runs it, with no mail configuration: each message becomes one
 * .eml under ./data/outbox and one log line naming the file and the link; the request log never
 * records a token. In production a missing TESSERA_SMTP_URL stops the start with one line.
 */

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

let running: ChildProcess | undefined;
afterEach(async () => {
  if (running && running.exitCode === null) {
    running.kill('SIGTERM');
    await once(running, 'exit');
  }
});

async function serve(cwd: string) {
  const child = spawn(process.execPath, [CLI, 'serve'], { env: cleanEnv({ TESSERA_PORT: '0' }), cwd });
  running = child;
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = () => {
      const match = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(output);
      if (match) resolveUrl(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  const lines = () =>
    output
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { url, lines, raw: () => output };
}

const json = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the development outbox', () => {
  it('writes one .eml per message and logs its file and link; the request log never holds the token', async () => {
    const cwd = tempDir();
    const server = await serve(cwd);
    const email = 'dev@example.com';
    expect((await json(`${server.url}/auth/register`, { email, password: PASSWORD })).status).toBe(201);
    const line = await until('the outbox line', () => server.lines().find((l) => typeof l.file === 'string'));
    const file = line.file as string;
    expect(file.startsWith(join(cwd, 'data', 'outbox'))).toBe(true);
    expect(readdirSync(join(cwd, 'data', 'outbox'))).toHaveLength(1);
    const parsed = await simpleParser(readFileSync(file));
    expect(parsed.subject).toBe('Confirm your email address');
    expect(typeof parsed.html).toBe('string');
    const link = line.link as string;
    expect(parsed.text).toContain(link);
    const url = new URL(link);
    expect(url.pathname).toBe('/auth/verify-email');
    const token = url.searchParams.get('token') as string;

    // Open the page as a person would, then confirm.
    const page = await fetch(`${server.url}${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await json(`${server.url}/auth/email/verify`, { token })).status).toBe(200);
    const probe = await fetch(`${server.url}/auth/session?token=${encodeURIComponent(token)}`);
    expect(probe.status).toBe(401);

    const requests = await until('three more request lines', () => {
      const found = server.lines().filter((l) => l.msg === 'request');
      return found.length >= 4 ? found : undefined;
    });
    expect(requests.map((l) => l.url)).toEqual([
      '/auth/register',
      '/auth/verify-email',
      '/auth/email/verify',
      '/auth/session', // the query dropped: token is not an allowlisted parameter
    ]);
    // The only line holding the link is the development outbox's own.
    const holding = server
      .raw()
      .split('\n')
      .filter((l) => l.includes(token.split('.')[1] as string));
    expect(holding).toHaveLength(1);
    expect(JSON.parse(holding[0] as string).file).toBe(file);
  });

  it('in production, no TESSERA_SMTP_URL stops the start with one line naming it', async () => {
    const result = await runCli(['serve'], {
      NODE_ENV: 'production',
      TESSERA_PORT: '0',
      TESSERA_TRUSTED_PROXIES: '127.0.0.1',
      TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'p.db')}`,
    });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/TESSERA_SMTP_URL is required in production/);
  });
});
