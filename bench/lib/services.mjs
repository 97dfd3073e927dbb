// PostgreSQL and Redis for the bench: whether they answer, and a schema or key prefix of this run's
// own for every server that uses them, all removed at the end (even after a failure or Ctrl-C).
// URLs: TESSERA_BENCH_PG_URL / TESSERA_BENCH_REDIS_URL, else the test suite's variables
// (TESSERA_TEST_PG_URL / TESSERA_TEST_REDIS_URL), else the local defaults.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';

export const PG_URL =
  process.env.TESSERA_BENCH_PG_URL ||
  process.env.TESSERA_TEST_PG_URL ||
  'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL =
  process.env.TESSERA_BENCH_REDIS_URL || process.env.TESSERA_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Where each service is, for failure lines (no password). */
const where = (url) => {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port}`;
};
export const PG_WHERE = `PostgreSQL at ${where(PG_URL)}`;
export const REDIS_WHERE = `Redis at ${where(REDIS_URL)}`;

/** This run's tag: in every schema name and key prefix it creates, so nothing else is touched. */
const RUN = `${process.pid}_${randomBytes(4).toString('hex')}`;
const SCHEMA_PREFIX = `tessera_bench_${RUN}_`;
const KEY_PREFIX = `tessera-bench:${RUN}:`;

const PROBE_TIMEOUT_MS = 2_000;

/** Undefined when PostgreSQL answers `select 1`, else why not (one line). */
export async function pgUnavailable() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return `${PG_WHERE} does not answer (${error.message || error.code || error})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Undefined when Redis answers PING (AUTH first if the URL has a password), else why not. */
export function redisUnavailable() {
  const { hostname, port, username, password } = new URL(REDIS_URL);
  const command = (...args) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const auth = password
    ? [command('AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password))]
    : [];
  const commands = [...auth, command('PING')];
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || 6379 });
    const fail = (reason) => {
      socket.destroy();
      resolve(`${REDIS_WHERE} does not answer (${reason})`);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(`no answer within ${PROBE_TIMEOUT_MS} ms`));
    socket.once('error', (error) => fail(error.message || error.code));
    socket.once('connect', () => socket.write(commands.join('')));
    let received = '';
    socket.on('data', (data) => {
      received += data.toString();
      const replies = received.split('\r\n').filter(Boolean);
      if (replies.length < commands.length) return;
      socket.destroy();
      const bad = replies.find((reply) => reply !== '+OK' && reply !== '+PONG');
      resolve(bad === undefined ? undefined : `${REDIS_WHERE} answered ${JSON.stringify(bad.slice(0, 80))}`);
    });
  });
}

const schemas = new Set();

/**
 * A new, empty schema of this run (tessera_bench_<pid>_<random>_<name>) and the URL that puts
 * every table in it (libpq's `options=-c search_path=…`, as docs/DEPLOY.md describes).
 */
export async function createSchema(name) {
  const schema = `${SCHEMA_PREFIX}${name.replace(/[^a-z0-9_]/g, '_')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    schemas.add(schema);
    await client.query(`create schema "${schema}"`);
  } finally {
    await client.end();
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: url.toString() };
}

/** A Redis key prefix of this run's own (tessera-bench:<pid>_<random>:<name>:). */
export const redisPrefix = (name) => `${KEY_PREFIX}${name}:`;

/**
 * Drops every schema this run created; resolves with how many, and an error line if one failed.
 * Never throws: cleanup must not hide the results.
 */
export async function dropSchemas() {
  if (schemas.size === 0) return { schemas: 0 };
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  let dropped = 0;
  try {
    await client.connect();
    // A fill stopped by Ctrl-C finishes its last batch first; nothing should hold a lock longer.
    await client.query(`set lock_timeout = '30s'`);
    for (const schema of schemas) {
      await client.query(`drop schema if exists "${schema}" cascade`);
      schemas.delete(schema);
      dropped++;
    }
  } catch (error) {
    return { schemas: dropped, error: `dropping bench schemas: ${error.message}` };
  } finally {
    await client.end().catch(() => {});
  }
  return { schemas: dropped };
}

let redisUsed = false;
/** Marks that this run wrote keys under its prefix (deleteRedisKeys is a no-op otherwise). */
export const usedRedis = () => {
  redisUsed = true;
};

/** A command connection without a key prefix (bench code names full keys). */
export function redisClient() {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: false,
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * Deletes every key under this run's prefix (or under `prefix`, one of redisPrefix's), with SCAN
 * and UNLINK so a shared Redis is never blocked. Never throws.
 */
export async function deleteRedisKeys(prefix = KEY_PREFIX) {
  if (!redisUsed) return { keys: 0 };
  const redis = redisClient();
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch (error) {
    return { keys: deleted, error: `deleting bench keys under ${prefix}: ${error.message}` };
  } finally {
    redis.disconnect();
  }
  return { keys: deleted };
}
