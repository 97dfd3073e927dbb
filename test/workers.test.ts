import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, runCli } from './cli-process.js';
import { PASSWORD, tempDir } from './helpers.js';

/**
 * `tessera serve --workers 2` on one SQLite file, hybrid mode, with neither
 * TESSERA_KEY_ENCRYPTION_KEY nor TESSERA_CSRF_SECRET set: what one process guarantees must hold
 * across the workers. Every request here opens a new connection, which the cluster primary
 * hands out round-robin, and the access log (its `pid`) shows that both workers answered.
 */

/** The bound the multi-node test holds hybrid revocation to (test/multinode/multinode.test.ts). */
const HYBRID_BOUND_MS = 1_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

let child: ChildProcess;
let url: string;
let output = '';

/** One request on a connection of its own (agent: false), so it may reach either worker. */
function send(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: text ? JSON.parse(text) : {},
          headers: response.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface LogLine {
  pid: number;
  msg: string;
  method?: string;
  url?: string;
  statusCode?: number;
  sessionId?: string;
}
const logLines = (): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  const dir = tempDir();
  child = spawn(process.execPath, [CLI, 'serve', '--workers', '2'], {
    env: cleanEnv({
      TESSERA_PORT: '0',
      TESSERA_HOST: '127.0.0.1',
      TESSERA_MODE: 'hybrid',
      TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}`,
      TESSERA_PASSWORD_HASH_THREADS: '1',
    }),
    cwd: dir,
  });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const port = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /"tessera: 2 workers serving on port (\d+)"/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`tessera serve --workers 2 exited ${code}: ${output}`)));
  });
  url = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('tessera serve --workers 2 (hybrid, one SQLite file)', () => {
  it('a logout in one worker is refused by every worker within the multi-node bound', async () => {
    const email = `workers.${process.pid}@example.com`;
    expect((await send('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const login = await send('POST', '/auth/login', {
      body: { email, password: PASSWORD, transport: 'bearer' },
    });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;
    const sessionId = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid;
    // Both workers accept it (verified-token caches warm on each).
    for (let i = 0; i < 8; i++) expect((await send('GET', '/auth/session', { token })).status).toBe(200);

    expect((await send('POST', '/auth/logout', { token })).status).toBe(204);
    const loggedOut = performance.now();
    // Four requests at a time on new connections until a round is refused everywhere.
    let refusedAfter: number | undefined;
    while (performance.now() - loggedOut < HYBRID_BOUND_MS * 3) {
      const round = await Promise.all(
        Array.from({ length: 4 }, () => send('GET', '/auth/session', { token })),
      );
      if (round.every((answer) => answer.status === 401)) {
        refusedAfter = performance.now() - loggedOut;
        break;
      }
    }
    expect(refusedAfter, 'still accepted after three times the bound').toBeDefined();
    expect(refusedAfter as number).toBeLessThan(HYBRID_BOUND_MS);
    // And it stays refused: twenty more, spread over both workers.
    const later = await Promise.all(
      Array.from({ length: 20 }, () => send('GET', '/auth/session', { token })),
    );
    expect(later.map((answer) => answer.status)).toEqual(Array(20).fill(401));
    console.log(
      `[workers] hybrid logout refused by every worker ${(refusedAfter as number).toFixed(0)} ms after`,
    );

    // The access log says who answered: both workers served the login before, and refused it after.
    await waitForLog(() => {
      const lines = logLines().filter((l) => l.msg === 'request' && l.url === '/auth/session');
      const servedBy = new Set(
        lines.filter((l) => l.statusCode === 200 && l.sessionId === sessionId).map((l) => l.pid),
      );
      const refusedBy = new Set(lines.filter((l) => l.statusCode === 401).map((l) => l.pid));
      return servedBy.size === 2 && refusedBy.size === 2;
    });
  });

  it('an anti-CSRF token from one worker is accepted by the other (one key for all)', async () => {
    const email = `workers.csrf.${process.pid}@example.com`;
    expect((await send('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const login = await send('POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const cookies = (login.headers['set-cookie'] as string[]).map((line) => line.split(';')[0] as string);
    const cookie = cookies.join('; ');
    const csrf = cookies.find((pair) => pair.startsWith('__Host-tessera_csrf='))?.split('=')[1];
    expect(csrf).toBeDefined();
    // The token passes on every worker: the (empty) body is then refused by validation (400),
    // never by the anti-CSRF check (403)…
    for (let i = 0; i < 6; i++) {
      const answer = await send('POST', '/auth/password', {
        body: {},
        headers: { cookie, 'x-csrf-token': csrf as string },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    }
    // …and a wrong token is refused on every worker.
    for (let i = 0; i < 4; i++) {
      const answer = await send('POST', '/auth/password', {
        body: {},
        headers: { cookie, 'x-csrf-token': `${csrf}x` },
      });
      expect(answer.body.error).toBe('csrf_token_invalid');
    }
  });

  it('rate limits count across workers: a sixth wrong password opens the backoff, the next waits', async () => {
    const email = `workers.limit.${process.pid}@example.com`;
    expect((await send('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await send('POST', '/auth/login', {
        body: { email, password: 'wrong horse battery staple', transport: 'bearer' },
      });
      statuses.push(answer.status);
    }
    // One process: five free failures, the sixth opens a 1 s gate, the seventh is refused.
    // Counted per worker, each would have seen four and refused nothing.
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toContain(429);
  });

  it('SIGTERM stops every worker gracefully: exit 0, the last requests logged', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const pids = new Set(
      logLines()
        .filter((l) => l.msg === 'request')
        .map((l) => l.pid),
    );
    expect(pids.size).toBe(2);
  });
});

describe('bad worker counts stop `tessera serve` with one line, exit 1', () => {
  it.each<{ args: string[]; env: Record<string, string>; shown: string }>([
    { args: ['serve', '--workers', 'many'], env: {}, shown: '"many"' },
    { args: ['serve', '--workers', '0'], env: {}, shown: '"0"' },
    { args: ['serve'], env: { TESSERA_WORKERS: '2', TESSERA_DATABASE_URL: 'memory:' }, shown: 'memory' },
  ])('$args $env', async ({ args, env, shown }) => {
    const { code, stderr } = await runCli(args, { TESSERA_PORT: '0', ...env }, '', tempDir());
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tessera: invalid configuration: TESSERA_WORKERS /);
    expect(lines[0]).toContain(shown);
  });
});

async function waitForLog(done: () => boolean): Promise<void> {
  // Lines are buffered up to 250 ms (src/http/log-destination.ts).
  for (let waited = 0; !done(); waited += 50) {
    if (waited > 5_000) throw new Error(`the log never showed both workers: ${output.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
