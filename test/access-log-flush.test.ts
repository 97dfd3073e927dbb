import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { CLI, cleanEnv } from './cli-process.js';
import { tempDir } from './helpers.js';

/**
 * The access log is buffered (src/http/log-destination.ts): lines leave in 4 KiB writes. A
 * graceful stop must still write every line, the last requests' included: a real
 * `tessera serve` with stdout on a file, as in production, stopped by SIGTERM right after
 * its last answers.
 */

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('SIGTERM while clients send requests: every answered request has its access line in the file', async () => {
  const cwd = tempDir();
  const logFile = join(cwd, 'stdout.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({ TESSERA_PORT: '0', TESSERA_DATABASE_URL: 'memory:', TESSERA_RATE_LIMIT: 'off' }),
    cwd,
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  const exited = once(child, 'exit');
  let url: string | undefined;
  for (let waited = 0; !url; waited += 50) {
    if (child.exitCode !== null || waited > 20_000) throw new Error('tessera serve did not start');
    url = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(readFileSync(logFile, 'utf8'))?.[1];
    await sleep(50);
  }
  // Clients send requests back to back, each naming its own path, through the signal until the
  // server refuses connections: the last answers come moments before the process exits, well
  // within one buffer and one flush interval.
  const answered: string[] = [];
  let next = 0;
  const client = async () => {
    for (;;) {
      const path = `/flush-probe-${next++}`;
      try {
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        expect(response.status).toBe(404);
        answered.push(path);
      } catch {
        return; // refused: the server stopped listening
      }
    }
  };
  const clients = Array.from({ length: 4 }, client);
  // Some traffic first, however busy the machine: the signal lands among answered requests.
  for (let waited = 0; answered.length < 40 && waited < 20_000; waited += 20) await sleep(20);
  child.kill('SIGTERM');
  await Promise.all(clients);
  const [code] = await exited;
  expect(code).toBe(0);
  const paths = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { url?: string; msg: string })
    .filter((line) => line.msg === 'request' && line.url?.startsWith('/flush-probe-'))
    .map((line) => line.url);
  expect(answered.length).toBeGreaterThanOrEqual(40);
  const logged = new Set(paths);
  expect(answered.filter((path) => !logged.has(path))).toEqual([]);
});
