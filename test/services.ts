import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { describe } from 'vitest';
import { redactDatabaseUrl } from '../src/config.js';

/**
 * External services some tests need (PostgreSQL, Redis). Locally, a test file whose service is
 * not reachable is skipped with one loud line saying what and why; in CI (CI=true) it fails,
 * so a missing service can never pass for green.
 */
export type Service = 'postgres' | 'redis';

const SERVICES: Record<Service, { env: string; fallback: string; probe: (url: string) => Promise<void> }> = {
  postgres: {
    env: 'TESSERA_TEST_PG_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/test',
    probe: probePostgres,
  },
  redis: { env: 'TESSERA_TEST_REDIS_URL', fallback: 'redis://127.0.0.1:6379', probe: probeRedis },
};

/** The service's URL for tests: from its environment variable, or the local default. */
export const serviceUrl = (service: Service): string =>
  process.env[SERVICES[service].env] || SERVICES[service].fallback;

const PROBE_TIMEOUT_MS = 3_000;
const probes = new Map<Service, Promise<string | undefined>>();

/** Undefined when the service answers, else why not (one line, no password). */
export function serviceUnavailable(service: Service): Promise<string | undefined> {
  let probe = probes.get(service);
  if (!probe) {
    probe = SERVICES[service].probe(serviceUrl(service)).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    probes.set(service, probe);
  }
  return probe;
}

export async function serviceAvailable(service: Service): Promise<boolean> {
  return (await serviceUnavailable(service)) === undefined;
}

/**
 * The service's URL when it answers. When it does not: under CI=true, throws (the test file
 * fails); otherwise prints one loud line naming `what` is skipped and why, and returns undefined.
 */
export async function serviceUrlOrSkip(service: Service, what: string): Promise<string | undefined> {
  const reason = await serviceUnavailable(service);
  if (reason === undefined) return serviceUrl(service);
  const where = redactDatabaseUrl(serviceUrl(service));
  const line = `${service} unreachable at ${where} (${reason}); set ${SERVICES[service].env} or start it`;
  if (process.env.CI === 'true') throw new Error(`${what}: ${line}`);
  console.warn(`\n!!! SKIPPED ${what}: ${line}. (Under CI=true this fails.)\n`);
  return undefined;
}

export const pgUrlOrSkip = (what: string) => serviceUrlOrSkip('postgres', what);

/**
 * `describe` that runs only with the service (see serviceUrlOrSkip); the body gets its URL.
 * Await it at the top of the test file.
 */
export async function describeWithService(
  service: Service,
  name: string,
  body: (url: string) => void,
): Promise<void> {
  const url = await serviceUrlOrSkip(service, name);
  if (url === undefined) describe.skip(name, () => {});
  else describe(name, () => body(url));
}

export const describeWithPostgres = (name: string, body: (url: string) => void) =>
  describeWithService('postgres', name, body);

/** A schema name unique to this process and call: tessera_test_<pid>_<random>. */
export const uniqueSchemaName = () => `tessera_test_${process.pid}_${randomBytes(6).toString('hex')}`;

/**
 * Schemas a test file creates, dropped by dropTestSchemas() (call it in afterAll, after the
 * stores using them are closed).
 */
const schemas = new Set<string>();
export function testSchema(): string {
  const schema = uniqueSchemaName();
  schemas.add(schema);
  return schema;
}

export async function dropTestSchemas(url: string): Promise<void> {
  if (schemas.size === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
    schemas.clear();
  } finally {
    await client.end();
  }
}

async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Speaks just enough RESP for (AUTH and) PING, so the helper needs no Redis client. */
function probeRedis(url: string): Promise<void> {
  const { hostname, port, username, password } = new URL(url);
  const command = (...args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const auth = password
    ? [command('AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password))]
    : [];
  const commands = [...auth, command('PING')];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || 6379 });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(commands.join('')));
    let received = '';
    socket.on('data', (data) => {
      received += data.toString();
      const replies = received.split('\r\n').filter(Boolean);
      if (replies.length < commands.length) return;
      socket.destroy();
      // -NOAUTH, -WRONGPASS...: reachable, but the tests could not use it either.
      const bad = replies.find((reply) => reply !== '+OK' && reply !== '+PONG');
      if (bad === undefined) resolve();
      else reject(new Error(`Redis answered ${JSON.stringify(bad.slice(0, 80))}`));
    });
  });
}

export const describeWithRedis = (name: string, body: (url: string) => void) =>
  describeWithService('redis', name, body);

/** A key prefix unique to this process and call (tessera-test:<pid>:<random>:), for TESSERA_REDIS_PREFIX. */
export const uniqueRedisPrefix = () => `tessera-test:${process.pid}:${randomBytes(6).toString('hex')}:`;

/** Deletes every key under the prefix (SCAN, so a big shared Redis is not blocked); call in afterAll. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
