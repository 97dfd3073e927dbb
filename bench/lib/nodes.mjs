// Revocation across three Tessera nodes of one deployment (a port of the method in
// test/multinode/measure.test.ts to the bench): how long after a logout on node A its credential
// is still accepted by nodes B and C.
//
// Each sample: a bearer login on A; B and C are polled (GET /auth/session, back to back on one
// keep-alive connection each) until both answer 200, so every cache is warm; POST /auth/logout on
// A; from the moment its 204 arrives, B and C are polled back to back until each answers 401.
// A delay therefore includes one HTTP round trip of the poll that saw the refusal.

import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { createSchema, REDIS_URL, redisPrefix } from './services.mjs';
import { EMAIL, PASSWORD } from './targets.mjs';
import { percentile, startServer } from './util.mjs';

/**
 * The deployments measured. Multi-node means a shared database: PostgreSQL (SQLite serves one
 * node, docs/DEPLOY.md). Each gets its own schema and, with Redis, its own key prefix.
 * `revokes: false`: jwt mode cannot revoke an access token; its lifetime is reported instead.
 */
export const CLUSTERS = [
  { id: 'session-postgres', name: 'session, PostgreSQL', mode: 'session', redis: false, revokes: true },
  {
    id: 'session-postgres-redis',
    name: 'session, PostgreSQL + Redis session copies',
    mode: 'session',
    redis: true,
    revokes: true,
  },
  { id: 'hybrid-redis-bus', name: 'hybrid, Redis pub/sub bus', mode: 'hybrid', redis: true, revokes: true },
  {
    id: 'hybrid-postgres-bus',
    name: 'hybrid, PostgreSQL LISTEN/NOTIFY bus',
    mode: 'hybrid',
    redis: false,
    revokes: true,
  },
  { id: 'jwt', name: 'jwt (no revocation of access tokens)', mode: 'jwt', redis: false, revokes: false },
];

/** The defaults, set explicitly so the report states what was configured. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 60;

/**
 * --quick: a deployment per code path (PostgreSQL alone, Redis beside it, no revocation), so the
 * smoke run starts 9 nodes rather than 15.
 */
export const QUICK_CLUSTERS = ['session-postgres', 'hybrid-redis-bus', 'jwt'];

/** Connections per node: the polls are one request at a time, and 15 nodes share max_connections. */
const POOL_SIZE = '2';

/**
 * Starts one deployment: a schema (and key prefix), three nodes on it, one registered account.
 * The nodes start side by side; a token signed by a key another node has not loaded yet makes it
 * reload its keys at once (Keyring), so no node needs to start first.
 */
export async function startCluster(cluster) {
  const { url } = await createSchema(`nodes_${cluster.id}`);
  const env = {
    TESSERA_MODE: cluster.mode,
    TESSERA_DATABASE_URL: url,
    TESSERA_DATABASE_POOL_SIZE: POOL_SIZE,
    // Shared by every node of a deployment (docs/DEPLOY.md): the KEK that seals the signing keys,
    // and the issuer (its default names the node's own port, which would differ).
    TESSERA_ISSUER: 'https://tessera-bench.example',
    TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    // Many logins of one account from one address in a few seconds: the login limiter would
    // rightly refuse them. GET /auth/session and POST /auth/logout are not rate-limited anyway.
    TESSERA_RATE_LIMIT: 'off',
    // jwt and hybrid: an access token's lifetime, and how long past exp it is still accepted.
    TESSERA_ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL_SECONDS}s`,
    TESSERA_CLOCK_SKEW: `${CLOCK_SKEW_SECONDS}s`,
    ...(cluster.redis
      ? { TESSERA_REDIS_URL: REDIS_URL, TESSERA_REDIS_PREFIX: redisPrefix(`nodes-${cluster.id}`) }
      : {}),
  };
  const started = await Promise.allSettled(
    [0, 1, 2].map(() => startServer('bench/servers/tessera.mjs', [], env)),
  );
  const nodes = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  const registered = await post(nodes[0].url, '/auth/register', { email: EMAIL, password: PASSWORD });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`);
  return { ...cluster, nodes };
}

/** One request on a keep-alive agent; resolves with the status and the body as text. */
function send(agent, url, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (url, path, json, headers = {}) => {
  const body = JSON.stringify(json);
  return send(undefined, url, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
    body,
  });
};

/**
 * Asks `path` back to back until it answers `status`; resolves with performance.now() at the
 * arrival of that answer. Any status but `status` and `other` is an error, and so is a timeout.
 */
async function pollUntil(agent, url, authorization, status, other, timeoutMs, what) {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const reply = await send(agent, url, '/auth/session', { headers: { authorization } });
    const at = performance.now();
    if (reply.status === status) return at;
    if (reply.status !== other) throw new Error(`${what}: GET /auth/session answered ${reply.status}`);
    if (at > until) return undefined;
  }
}

const summarise = (xs) => ({
  samples: xs.length,
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  max: xs.length ? Math.max(...xs) : Number.NaN,
});

/**
 * `samples` logouts on node A, each refused (or not) by B and C. Resolves with the delays (one
 * per node and logout) and their p50/p99/max, or for jwt mode the credential's lifetime and
 * whether B and C still accepted it `jwtWindowMs` after the logout.
 */
export async function measureCluster(cluster, { samples, timeoutMs, jwtWindowMs }) {
  const [a, ...others] = cluster.nodes;
  const agents = others.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const delays = [];
  let expiresIn = null;
  let stillAccepted = 0;
  let checks = 0;
  try {
    for (let s = 0; s < samples; s++) {
      const login = await post(a.url, '/auth/login', {
        email: EMAIL,
        password: PASSWORD,
        transport: 'bearer',
      });
      if (login.status !== 200) throw new Error(`bearer login on A: ${login.status} ${login.text}`);
      const body = JSON.parse(login.text);
      expiresIn = body.expiresIn ?? null;
      const authorization = `Bearer ${body.token ?? body.accessToken}`;
      // Warm: B and C both accept the fresh credential (a cache of verified tokens fills here).
      await Promise.all(
        others.map(async (node, i) => {
          const at = await pollUntil(agents[i], node.url, authorization, 200, 401, 10_000, 'warm-up');
          if (at === undefined) throw new Error(`node ${i + 2} never accepted the fresh credential`);
        }),
      );
      const logout = await send(undefined, a.url, '/auth/logout', {
        method: 'POST',
        headers: { authorization },
      });
      const loggedOut = performance.now();
      if (logout.status !== 204) throw new Error(`logout on A: ${logout.status} ${logout.text}`);
      // jwt: B and C keep accepting the access token until it expires; seen for a short window.
      const waitMs = cluster.revokes ? timeoutMs : jwtWindowMs;
      await Promise.all(
        others.map(async (node, i) => {
          const refusedAt = await pollUntil(
            agents[i],
            node.url,
            authorization,
            401,
            200,
            waitMs,
            'after the logout',
          );
          if (refusedAt !== undefined) delays.push(refusedAt - loggedOut);
          else if (cluster.revokes)
            throw new Error(`node ${i + 2} still accepted the credential ${timeoutMs} ms after the logout`);
          if (!cluster.revokes) {
            checks++;
            if (refusedAt === undefined) stillAccepted++;
          }
        }),
      );
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return {
    logouts: samples,
    delays: delays.map((d) => Math.round(d * 100) / 100),
    ...summarise(delays),
    // The access token's configured lifetime and the expiresIn the login answered (whole seconds,
    // rounded down); jwt: every node accepts it until exp plus the clock-skew tolerance.
    ...(cluster.mode === 'session'
      ? {}
      : {
          credentialLifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
          expiresIn,
          clockSkewSeconds: CLOCK_SKEW_SECONDS,
          acceptedForSeconds: ACCESS_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS,
        }),
    ...(cluster.revokes ? {} : { windowMs: jwtWindowMs, checks, stillAccepted }),
  };
}
