// `node bench/socket-steps.mjs [seconds]` (`STEPS=jwt` for some rows only): where the CPU of an authenticated GET /auth/session
// goes on real sockets, one step at a time, as µs of server CPU per request (from /proc, every
// thread) with autocannon -c 50. Each row adds one thing to the row above it: fastify alone,
// the same request with a login's Cookie header, Tessera's app on a route without auth, the
// same with the Cookie header, then GET /auth/session authenticated by it in each mode and
// store. Differences between rows price the steps; docs/ARCHITECTURE.md "The hot path" quotes
// them. Servers are pinned to core 0 from their start (steadier for one server at a time than
// `npm run bench`'s move after listening: bench/lib/util.mjs), this process to core 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './lib/load.mjs';
import { deleteRedisKeys, dropSchemas, pgUnavailable } from './lib/services.mjs';
import { serviceEnv, sessionTargets } from './lib/targets.mjs';
import { canPin, cpuSecondsOf, startServer, stopAll } from './lib/util.mjs';

if (canPin && process.env.TESSERA_BENCH_PINNED !== '1') {
  const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_BENCH_PINNED: '1' },
  });
  process.exit(child.status ?? 1);
}

const seconds = Number(process.argv[2] ?? 6);
const targets = sessionTargets(mkdtempSync(join(tmpdir(), 'tessera-socket-steps-')));
const target = (id) => targets.find((t) => t.id === id);

/** µs of the server's CPU per answered request, after a 2-second warm-up. */
async function cpuPerRequest(server, path, headers) {
  await load({ url: server.url, path, headers, seconds: 2 });
  const before = cpuSecondsOf(server.pid);
  const run = await load({ url: server.url, path, headers, seconds });
  const used = cpuSecondsOf(server.pid) - before;
  if (run.non2xx > 0 || run.requests === 0) throw new Error(`${path}: ${run.non2xx} answers not 2xx`);
  return (used * 1e6) / run.requests;
}

const rows = [];
// `STEPS=<regexp>`: only the rows whose label matches (and the baseline), for a quick A/B.
const only = process.env.STEPS ? new RegExp(process.env.STEPS, 'i') : undefined;
async function step(id, label, headersOf) {
  if (only && id !== 'fastify-no-auth' && !only.test(label)) return;
  const t = target(id);
  const server = await startServer(t.script, t.args, { ...t.env, ...(await serviceEnv(t)) }, [], {
    pinAtSpawn: true,
  });
  try {
    const credentials = await t.login(server.url, true);
    const us = await cpuPerRequest(server, t.path, headersOf(credentials));
    const previous = rows.at(-1);
    rows.push({ step: label, us: Math.round(us * 10) / 10 });
    const delta = previous ? ` (${us >= previous.us ? '+' : ''}${(us - previous.us).toFixed(1)})` : '';
    console.log(`${label.padEnd(64)} ${us.toFixed(1).padStart(6)} µs${delta}`);
  } finally {
    await server.stop();
  }
}

// The cookies a browser logged in to jwt mode sends: the access token and the anti-CSRF cookie.
const jwt = target('tessera-jwt-eddsa');
const jwtServer = await startServer(jwt.script, jwt.args, jwt.env, [], { pinAtSpawn: true });
const jwtCookie = (await jwt.login(jwtServer.url, true)).cookie;
await jwtServer.stop();

try {
  await step('fastify-no-auth', 'fastify, no auth (the baseline)', () => ({}));
  await step('fastify-no-auth', '  the same request with a login Cookie header', () => ({
    cookie: jwtCookie,
  }));
  await step('tessera-app-no-auth', "Tessera's app, a route without auth", () => ({}));
  await step('tessera-app-no-auth', '  the same with a login Cookie header', () => ({ cookie: jwtCookie }));
  await step('tessera-jwt-eddsa', 'GET /auth/session, jwt EdDSA (cache hit)', (c) => ({ cookie: c.cookie }));
  await step('tessera-hybrid-eddsa', 'GET /auth/session, hybrid EdDSA', (c) => ({ cookie: c.cookie }));
  await step('tessera-session-memory', 'GET /auth/session, session, memory store', (c) => ({
    cookie: c.cookie,
  }));
  await step('tessera-session-sqlite', 'GET /auth/session, session, SQLite', (c) => ({ cookie: c.cookie }));
  const pgDown = await pgUnavailable();
  if (pgDown) console.log(`PostgreSQL row skipped: ${pgDown}`);
  else {
    await step('tessera-session-postgres', 'GET /auth/session, session, PostgreSQL', (c) => ({
      cookie: c.cookie,
    }));
  }
} finally {
  await stopAll();
  await dropSchemas();
  await deleteRedisKeys();
}
console.log(JSON.stringify(rows));
