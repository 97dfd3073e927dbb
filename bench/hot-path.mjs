// `node bench/hot-path.mjs > /tmp/log` (after npm run build): what each step of an
// authenticated GET /auth/session costs, in µs of CPU per request, measured in this process
// (process.cpuUsage around many requests; medians of 5 batches), so the figures hold on a busy
// machine better than req/s. Requests go through fastify's inject (no sockets), so the
// differences between the rows price each layer; the socket and HTTP parsing cost that the
// network adds is the same for every row. The access log goes to this process's stdout:
// redirect it to a file, as in production.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { loadConfig } from '../dist/config.js';
import { hashSecret, parseToken, secretMatches } from '../dist/core/tokens.js';
import { buildApp } from '../dist/http/app.js';
import { logDestination } from '../dist/http/log-destination.js';
import { createTessera } from '../dist/tessera.js';
import { fastifyLogging, sessionBody } from './servers/common.mjs';

const BATCH = Number(process.env.HOT_PATH_BATCH ?? 5_000);
const dir = mkdtempSync(join(tmpdir(), 'tessera-hot-path-'));
const EMAIL = 'bench@example.com';
const PASSWORD = 'correct horse battery staple';
const KEK = 'a1'.repeat(32);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** µs of CPU per call of `once` (sync or async), median of 5 batches after a warm-up batch. */
async function cost(once) {
  const batches = [];
  for (let b = 0; b < 6; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) await once();
    const used = process.cpuUsage(before);
    if (b > 0) batches.push((used.user + used.system) / BATCH);
  }
  return median(batches);
}

async function tesseraApp(env, path = '/auth/session') {
  const config = loadConfig({ TESSERA_RATE_LIMIT: 'off', ...env });
  const tessera = await createTessera(config);
  const app = await buildApp(tessera);
  app.get('/bench/no-auth', async () => sessionBody);
  await app.ready();
  const json = (url, body) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body });
  await json('/auth/register', { email: EMAIL, password: PASSWORD });
  const login = await json('/auth/login', { email: EMAIL, password: PASSWORD, transport: 'bearer' });
  const { token, accessToken } = login.json();
  const authorization = `Bearer ${token ?? accessToken}`;
  const request = { method: 'GET', url: path, headers: { authorization } };
  const check = await app.inject(request);
  if (check.statusCode !== 200) throw new Error(`${path}: ${check.statusCode} ${check.body}`);
  return { app, tessera, token: token ?? accessToken, run: () => app.inject(request) };
}

const rows = [];
const row = (step, us, note = '') => {
  rows.push({ step, us: Math.round(us * 10) / 10, note });
  console.error(`${step.padEnd(58)} ${us.toFixed(1).padStart(6)} µs ${note}`);
};

// 1. The frameworks alone.
const plain = Fastify({ ...fastifyLogging });
plain.get('/auth/session', async () => sessionBody);
await plain.ready();
const plainCost = await cost(() => plain.inject({ method: 'GET', url: '/auth/session' }));
row('fastify + pino (default destination), same JSON', plainCost);
const buffered = Fastify({
  ...fastifyLogging,
  logger: { ...fastifyLogging.logger, stream: logDestination() },
});
buffered.get('/auth/session', async () => sessionBody);
await buffered.ready();
const bufferedCost = await cost(() => buffered.inject({ method: 'GET', url: '/auth/session' }));
row('fastify + pino (buffered destination)', bufferedCost);

// 2. Tessera's app: its defences, no authentication.
const noAuth = await tesseraApp({ TESSERA_DATABASE_URL: 'memory:' }, '/bench/no-auth');
const noAuthCost = await cost(noAuth.run);
row(
  "Tessera's app, route without auth",
  noAuthCost,
  `+${(noAuthCost - bufferedCost).toFixed(1)} over buffered fastify`,
);

// 3. Authentication, per mode and store.
const targets = [
  [
    'jwt EdDSA, cache hit',
    { TESSERA_MODE: 'jwt', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  ],
  [
    'hybrid EdDSA, cache hit + revocation check',
    { TESSERA_MODE: 'hybrid', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  ],
  ['session, memory store', { TESSERA_DATABASE_URL: 'memory:' }],
  ['session, SQLite', { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'hot.db')}` }],
];
const apps = [];
for (const [name, env] of targets) {
  const t = await tesseraApp(env);
  apps.push(t);
  const c = await cost(t.run);
  row(`GET /auth/session: ${name}`, c, `+${(c - noAuthCost).toFixed(1)} over the no-auth route`);
}

// 4. Single steps, outside HTTP.
const sqlite = apps[3];
const sessionToken = sqlite.token;
const parsed = parseToken(sessionToken);
const stored = hashSecret(parsed.secret);
row(
  '  parse the token + SHA-256 + constant-time compare',
  await cost(() => secretMatches(parseToken(sessionToken).secret, stored)),
);
row(
  '  SQLite: findSessionWithUser (prepared join, row mapping)',
  await cost(() => sqlite.tessera.stores.sessions.findSessionWithUser(parsed.id)),
);
row(
  '  Sessions.validate on SQLite (all of the above + renewal check)',
  await cost(() => sqlite.tessera.sessions.validate(sessionToken)),
);
// jwt: the steps of a cache hit, and the answer built and serialized (every mode pays the last).
const jwt = apps[0];
row(
  '  jwt: keyring.verifyFresh on a verified-token cache hit',
  await cost(() => jwt.tessera.keyring.verifyFresh(jwt.token)),
);
const view = (
  await jwt.app.inject({
    method: 'GET',
    url: '/auth/session',
    headers: { authorization: `Bearer ${jwt.token}` },
  })
).json();
row('  the answer: JSON.stringify of the session view', await cost(() => JSON.stringify(view)));
const cookieHeader = `__Host-tessera_at=${jwt.token}; __Host-tessera_csrf=${'x'.repeat(43)}`;
row(
  '  the Cookie header parsed (a jwt access token and the anti-CSRF cookie)',
  await cost(() => jwt.app.parseCookie(cookieHeader)),
);

// PostgreSQL, when reachable: the per-request read through the driver and the round trip.
const pgUrl = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
try {
  const schema = `hot_path_${process.pid}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(pgUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    const t = await tesseraApp({ TESSERA_DATABASE_URL: url.toString(), TESSERA_DATABASE_POOL_SIZE: '4' });
    const id = parseToken(t.token).id;
    row(
      '  PostgreSQL: findSessionWithUser (prepared join, one round trip)',
      await cost(() => t.tessera.stores.sessions.findSessionWithUser(id)),
    );
    const c = await cost(t.run);
    row(
      'GET /auth/session: session, PostgreSQL',
      c,
      `+${(c - noAuthCost).toFixed(1)} over the no-auth route`,
    );
    await t.app.close();
    await t.tessera.close();
  } finally {
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
} catch (error) {
  console.error(`PostgreSQL rows skipped: ${error.message}`);
}

const line = {
  method: 'GET',
  url: '/auth/session',
  ip: '127.0.0.1',
  statusCode: 200,
  responseTime: 0.123,
  userId: 'kMdkNZWWXF_cw37t_F-usw',
  sessionId: 'rewaa_hi3yXi0owz-3nsmw',
};
const log = noAuth.app.log.child({ reqId: 'req-1' });
row('  one access-log line (pino child, JSON, buffered write)', await cost(() => log.info(line, 'request')));

for (const t of [noAuth, ...apps]) {
  await t.app.close();
  await t.tessera.close();
}
await plain.close();
await buffered.close();
console.error(JSON.stringify(rows));
