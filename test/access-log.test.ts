import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv } from './cli-process.js';
import { PASSWORD, tempDir } from './helpers.js';

/**
 * The request log of a real `tessera serve`: one line per request, naming the user of an
 * authenticated one, and never a credential, whatever the mode and however it was presented.
 */

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

interface Server {
  process: ChildProcess;
  url: string;
  lines: () => Array<Record<string, unknown>>;
  raw: () => string;
}

let running: ChildProcess | undefined;
afterEach(async () => {
  if (running && running.exitCode === null) {
    running.kill('SIGTERM');
    await once(running, 'exit');
  }
});

async function serve(env: Record<string, string>): Promise<Server> {
  const cwd = tempDir();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({ TESSERA_PORT: '0', TESSERA_DATABASE_URL: `sqlite://${join(cwd, 't.db')}`, ...env }),
    cwd,
  });
  running = child;
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = () => {
      const match = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(output);
      if (match) {
        child.stdout?.off('data', onData);
        resolveUrl(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  return {
    process: child,
    url,
    raw: () => output,
    lines: () =>
      output
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const json = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Waits until the server has logged `count` request lines (the line is written after the answer). */
async function requestLines(server: Server, count: number) {
  for (let i = 0; i < 100; i++) {
    const lines = server.lines().filter((line) => line.msg === 'request');
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`expected ${count} request lines, got:\n${server.raw()}`);
}

describe('the request log', () => {
  for (const mode of ['session', 'jwt'] as const) {
    it(`${mode} mode: one line per request, with the user when authenticated, never a credential`, async () => {
      const server = await serve({
        TESSERA_MODE: mode,
        ...(mode === 'jwt' && { TESSERA_KEY_ENCRYPTION_KEY: 'c3'.repeat(32) }),
      });
      const email = 'logged@example.com';
      const registered = await json(`${server.url}/auth/register`, { email, password: PASSWORD });
      expect(registered.status).toBe(201);
      const { user } = (await registered.json()) as { user: { id: string } };

      // Bearer: the token in the body; cookie: tokens in Set-Cookie.
      const bearer = (await (
        await json(`${server.url}/auth/login`, { email, password: PASSWORD, transport: 'bearer' })
      ).json()) as Record<string, string>;
      const token = (bearer.token ?? bearer.accessToken) as string;
      const cookieLogin = await json(`${server.url}/auth/login`, { email, password: PASSWORD });
      const setCookies = cookieLogin.headers.getSetCookie();
      const cookie = setCookies.map((line) => line.split(';')[0]).join('; ');
      const secrets = [
        PASSWORD,
        token,
        ...(bearer.refreshToken ? [bearer.refreshToken] : []),
        ...setCookies.map((line) => (line.split(';')[0] as string).split('=')[1] as string),
      ];

      const byBearer = await fetch(`${server.url}/auth/session`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(byBearer.status).toBe(200);
      const byCookie = await fetch(`${server.url}/auth/session`, { headers: { cookie } });
      expect(byCookie.status).toBe(200);
      // Query strings are logged only with allowlisted parameters (never state, code, emails).
      const refused = await fetch(
        `${server.url}/auth/session?limit=5&state=s3cr3t-state&user=ada%40example.com`,
        {
          headers: { authorization: 'Bearer not-a-token' },
        },
      );
      expect(refused.status).toBe(401);

      const lines = await requestLines(server, 6);
      expect(lines).toHaveLength(6);
      expect(lines.map(({ method, url, ip }) => ({ method, url, ip }))).toEqual([
        { method: 'POST', url: '/auth/register', ip: '127.0.0.1' },
        { method: 'POST', url: '/auth/login', ip: '127.0.0.1' },
        { method: 'POST', url: '/auth/login', ip: '127.0.0.1' },
        { method: 'GET', url: '/auth/session', ip: '127.0.0.1' },
        { method: 'GET', url: '/auth/session', ip: '127.0.0.1' },
        { method: 'GET', url: '/auth/session?limit=5', ip: '127.0.0.1' },
      ]);
      expect(lines.map((line) => line.statusCode)).toEqual([201, 200, 200, 200, 200, 401]);
      for (const line of lines) expect(typeof line.responseTime).toBe('number');
      // The two authenticated requests say who; the rest do not.
      expect(lines.map((line) => line.userId)).toEqual([
        undefined,
        undefined,
        undefined,
        user.id,
        user.id,
        undefined,
      ]);
      expect(lines[3]?.sessionId).toEqual(expect.any(String));
      // No fastify "incoming request" / "request completed" pairs.
      expect(
        server.lines().filter((line) => /incoming request|request completed/.test(String(line.msg))),
      ).toEqual([]);
      const raw = server.raw();
      for (const secret of secrets) expect(raw).not.toContain(secret);
      expect(raw).not.toContain('s3cr3t-state');
      expect(raw).not.toContain('ada%40example.com');
      expect(raw.toLowerCase()).not.toContain('cookie');
      expect(raw.toLowerCase()).not.toContain('authorization');
    });
  }
});
