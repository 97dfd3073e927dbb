// The servers measured by GET /auth/session, and how a client gets credentials from each.
import { createSchema, REDIS_URL, redisPrefix, usedRedis } from './services.mjs';
import { cookieHeaderFor, headerBytes } from './util.mjs';

export const EMAIL = 'bench@example.com';
export const PASSWORD = 'correct horse battery staple';
const JSON_HEADERS = { 'content-type': 'application/json' };
// Fixed, so the cache-off jwt server can open HS256 secrets the way the keyring does.
const KEK = 'a1'.repeat(32);

const post = (url, body, headers = {}) =>
  fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

async function credentialsFrom(response, what) {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
  const setCookies = response.headers.getSetCookie();
  const cookie = cookieHeaderFor(setCookies, '/auth/session');
  if (!cookie) throw new Error(`${what}: no cookie for /auth/session`);
  // The anti-CSRF cookie rides along on every request but is not a credential: counted apart.
  const credentialOnly = cookie
    .split('; ')
    .filter((pair) => !/csrf/i.test(pair.split('=')[0]))
    .join('; ');
  return {
    cookie,
    setCookies,
    cookieBytes: headerBytes('Cookie', [cookie]),
    credentialCookieBytes: headerBytes('Cookie', [credentialOnly]),
    setCookieBytes: headerBytes('Set-Cookie', setCookies),
  };
}

/** Tessera: register once, then a real login (argon2id) each time credentials are needed. */
export async function tesseraLogin(url, first) {
  if (first) {
    const registered = await post(`${url}/auth/register`, { email: EMAIL, password: PASSWORD });
    if (registered.status !== 201 && registered.status !== 409) {
      throw new Error(`register: ${registered.status} ${await registered.text()}`);
    }
  }
  return credentialsFrom(await post(`${url}/auth/login`, { email: EMAIL, password: PASSWORD }), 'login');
}

/** The express-session and @fastify/session servers: POST /login puts a user in a new session. */
const simpleLogin = async (url) => credentialsFrom(await post(`${url}/login`, { email: EMAIL }), 'login');

/** better-auth: sign up once (which signs in), then sign in by email and password. */
async function betterAuthLogin(url, first) {
  const path = first ? '/api/auth/sign-up/email' : '/api/auth/sign-in/email';
  const body = first
    ? { email: EMAIL, password: PASSWORD, name: 'Bench' }
    : { email: EMAIL, password: PASSWORD };
  return credentialsFrom(await post(`${url}${path}`, body, { origin: url }), path);
}

const noLogin = async () => undefined;

const tessera = (env) => ({ script: 'bench/servers/tessera.mjs', args: [], env, login: tesseraLogin });

/** Every GET /auth/session target; `dir` holds SQLite files for this run. */
export function sessionTargets(dir) {
  const targets = [
    {
      id: 'node-no-auth',
      name: 'node:http, no auth',
      script: 'bench/servers/node-no-auth.mjs',
      login: noLogin,
    },
    {
      id: 'fastify-no-auth',
      name: 'fastify, no auth (baseline)',
      script: 'bench/servers/fastify-no-auth.mjs',
      login: noLogin,
      baseline: true,
    },
    {
      // Context: the baseline with Tessera's buffered log destination, to show what of the
      // difference is the log's write pattern alone.
      id: 'fastify-no-auth-buffered-log',
      name: 'fastify, no auth, buffered log',
      script: 'bench/servers/fastify-no-auth.mjs',
      env: { BENCH_LOG: 'buffered' },
      login: noLogin,
    },
    {
      id: 'tessera-app-no-auth',
      name: "tessera's app, a route without auth",
      script: 'bench/servers/tessera-app-no-auth.mjs',
      env: { TESSERA_DATABASE_URL: 'memory:' },
      path: '/bench/no-auth',
      login: noLogin,
    },
    {
      id: 'tessera-session-memory',
      name: 'tessera session, memory',
      ...tessera({ TESSERA_DATABASE_URL: 'memory:' }),
    },
    {
      id: 'tessera-session-sqlite',
      name: 'tessera session, SQLite',
      ...tessera({ TESSERA_DATABASE_URL: `sqlite://${dir}/session.db` }),
    },
    {
      // The same with Prometheus metrics on (GET /metrics behind a token): the per-request cost of
      // the route timing hook, compared with tessera-session-sqlite in the same run.
      id: 'tessera-session-sqlite-metrics',
      name: 'tessera session, SQLite, metrics on',
      ...tessera({
        TESSERA_DATABASE_URL: `sqlite://${dir}/session-metrics.db`,
        TESSERA_METRICS_TOKEN: 'bench-metrics-token-0123456789abcdef0123456789',
      }),
    },
    {
      // SQLite stays the system of record; sessions are read from their Redis copies.
      id: 'tessera-session-redis',
      name: 'tessera session, SQLite + Redis',
      ...tessera({ TESSERA_DATABASE_URL: `sqlite://${dir}/session-redis.db` }),
      needsRedis: true,
      redisPrefix: 'session-redis',
    },
    {
      id: 'tessera-session-postgres',
      name: 'tessera session, PostgreSQL',
      ...tessera({}),
      needsPostgres: true,
      pgSchema: 'session_postgres',
    },
  ];
  for (const alg of ['EdDSA', 'ES256', 'RS256', 'HS256']) {
    const env = {
      TESSERA_MODE: 'jwt',
      TESSERA_JWT_ALGORITHM: alg,
      // GET /auth/session in jwt mode reads no store; the store only serves login.
      TESSERA_DATABASE_URL: 'memory:',
      TESSERA_KEY_ENCRYPTION_KEY: KEK,
    };
    targets.push(
      { id: `tessera-jwt-${alg.toLowerCase()}`, name: `tessera jwt ${alg}, cache`, ...tessera(env) },
      {
        id: `tessera-jwt-${alg.toLowerCase()}-nocache`,
        name: `tessera jwt ${alg}, no cache`,
        ...tessera(env),
        script: 'bench/servers/tessera-jwt-nocache.mjs',
        args: [],
      },
    );
  }
  // hybrid: the jwt path plus the in-memory revocation check.
  targets.push({
    id: 'tessera-hybrid-eddsa',
    name: 'tessera hybrid EdDSA, cache',
    ...tessera({
      TESSERA_MODE: 'hybrid',
      TESSERA_JWT_ALGORITHM: 'EdDSA',
      TESSERA_DATABASE_URL: 'memory:',
      TESSERA_KEY_ENCRYPTION_KEY: KEK,
    }),
  });
  targets.push(
    {
      id: 'express-no-auth',
      name: 'express 5, no auth',
      script: 'bench/servers/express-no-auth.mjs',
      login: noLogin,
    },
    {
      id: 'express-session-redis',
      name: 'express-session + connect-redis',
      script: 'bench/servers/express-session-redis.mjs',
      login: simpleLogin,
      needsRedis: true,
    },
    {
      id: 'fastify-session-redis',
      name: '@fastify/session + connect-redis',
      script: 'bench/servers/fastify-session-redis.mjs',
      login: simpleLogin,
      needsRedis: true,
    },
    {
      id: 'better-auth',
      name: 'better-auth getSession, SQLite',
      script: 'bench/servers/better-auth.mjs',
      env: { BENCH_COOKIE_CACHE: 'off' },
      login: betterAuthLogin,
    },
    {
      id: 'better-auth-cookie-cache',
      name: 'better-auth getSession, cookie cache',
      script: 'bench/servers/better-auth.mjs',
      env: { BENCH_COOKIE_CACHE: 'on' },
      login: betterAuthLogin,
    },
  );
  return targets.map((t) => ({ args: [], env: {}, ...t }));
}

/**
 * The environment a target needs from PostgreSQL and Redis, made for this run: a schema of its
 * own (TESSERA_DATABASE_URL), a key prefix of its own (TESSERA_REDIS_URL, TESSERA_REDIS_PREFIX),
 * or, for the peers on Redis, the Redis URL.
 */
export async function serviceEnv(target) {
  const env = {};
  if (target.pgSchema) env.TESSERA_DATABASE_URL = (await createSchema(target.pgSchema)).url;
  if (target.redisPrefix) {
    usedRedis();
    env.TESSERA_REDIS_URL = REDIS_URL;
    env.TESSERA_REDIS_PREFIX = redisPrefix(target.redisPrefix);
  } else if (target.needsRedis) {
    usedRedis();
    env.BENCH_REDIS_URL = REDIS_URL;
    env.BENCH_REDIS_PREFIX = redisPrefix(target.id);
  }
  return env;
}

/**
 * How long a credential keeps working after its owner logs out: log in as a bearer client,
 * POST /auth/logout, then ask GET /auth/session every 10 ms until it answers 401 (or `waitMs`
 * passes). Bearer, so no cookie jar or anti-CSRF token is involved.
 */
export async function revocationDelay(url, waitMs) {
  const login = await post(`${url}/auth/login`, { email: EMAIL, password: PASSWORD, transport: 'bearer' });
  if (!login.ok) throw new Error(`bearer login: ${login.status} ${await login.text()}`);
  const body = await login.json();
  const authorization = `Bearer ${body.token ?? body.accessToken}`;
  const ask = async () => (await fetch(`${url}/auth/session`, { headers: { authorization } })).status;
  if ((await ask()) !== 200) throw new Error('the fresh bearer credential was refused');
  // Visibility: does the server know this login (and the account's others) as a device?
  const devices = await fetch(`${url}/auth/sessions`, { headers: { authorization } });
  const listed = devices.ok ? (await devices.json()).sessions : undefined;
  const visibility = {
    devicesListed: listed?.length ?? null,
    currentListed: listed ? listed.some((device) => device.current) : false,
  };
  const logout = await fetch(`${url}/auth/logout`, { method: 'POST', headers: { authorization } });
  if (logout.status !== 204) throw new Error(`logout: ${logout.status} ${await logout.text()}`);
  const loggedOut = performance.now();
  while (performance.now() - loggedOut < waitMs) {
    const status = await ask();
    if (status === 401)
      return {
        rejectedAfterMs: performance.now() - loggedOut,
        credentialLifetimeSeconds: body.expiresIn ?? null,
        ...visibility,
      };
    if (status !== 200) throw new Error(`GET /auth/session after logout: ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    rejectedAfterMs: null,
    stillAcceptedAfterMs: waitMs,
    credentialLifetimeSeconds: body.expiresIn ?? null,
    ...visibility,
  };
}

export const QUICK_TARGETS = [
  'fastify-no-auth',
  'tessera-session-sqlite',
  'tessera-session-redis',
  'tessera-session-postgres',
  'tessera-jwt-eddsa',
];
