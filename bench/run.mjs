// `npm run bench`: quick, same-run comparisons. Servers run in child processes pinned to core 0
// (taskset), the load generator (autocannon, -c 50, no pipelining) runs here on core 1.
// Rounds are interleaved and the median is reported as a ratio to the no-auth baseline,
// because absolute numbers on a shared 2-core machine drift.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Request logging stays as in production (info); the log goes to /dev/null, not to a pipe
// this process would have to drain. Readiness is polled, not read from the log.
async function startServer(script, args, env) {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', process.execPath, script, ...args], {
    env: { ...process.env, TESSERA_PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`${script} exited ${child.exitCode}`);
    try {
      await fetch(`${url}/healthz`);
      return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill();
  throw new Error(`${script} did not start`);
}

async function login(url) {
  const email = 'bench@example.com';
  const password = 'correct horse battery staple';
  const headers = { 'content-type': 'application/json' };
  await fetch(`${url}/auth/register`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
  const response = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email, password }),
  });
  const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error(`login failed: ${response.status}`);
  return cookie;
}

async function load(url, headers) {
  const result = await autocannon({
    url: `${url}/auth/session`,
    connections: 50,
    duration: SECONDS,
    headers,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const targets = [
  { name: 'fastify, no auth (baseline)', script: 'bench/servers/fastify-no-auth.mjs', args: [], env: {} },
  {
    name: 'tessera session mode, SQLite',
    script: 'dist/cli/main.js',
    args: ['serve'],
    env: { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'bench.db')}` },
    auth: true,
  },
  {
    name: 'tessera session mode, memory',
    script: 'dist/cli/main.js',
    args: ['serve'],
    env: { TESSERA_DATABASE_URL: 'memory:' },
    auth: true,
  },
];

try {
  // 1. argon2id cost: what one login pays.
  const hashTimes = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    await hash('correct horse battery staple', {
      algorithm: 2,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    hashTimes.push(performance.now() - start);
  }
  console.log(`argon2id m=19456 t=2 p=1: median ${median(hashTimes).toFixed(1)} ms per hash`);

  // 2. Authenticated-request throughput, interleaved rounds.
  const servers = [];
  for (const target of targets) {
    const server = await startServer(target.script, target.args, target.env);
    const headers = target.auth ? { cookie: await login(server.url) } : {};
    servers.push({ ...target, ...server, headers, runs: [] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of servers) server.runs.push(await load(server.url, server.headers));
  }
  for (const server of servers) server.stop();

  const baseline = median(servers[0].runs.map((r) => r.rps));
  const rows = servers.map((s) => {
    const rps = median(s.runs.map((r) => r.rps));
    return {
      target: s.name,
      'req/s': Math.round(rps),
      'ratio to baseline': (rps / baseline).toFixed(2),
      'p50 ms': median(s.runs.map((r) => r.p50)),
      'p99 ms': median(s.runs.map((r) => r.p99)),
    };
  });
  console.table(rows);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(
    file,
    `${JSON.stringify({ argon2idMedianMs: median(hashTimes), rounds: ROUNDS, seconds: SECONDS, rows }, null, 2)}\n`,
  );
  console.log(`written ${file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
