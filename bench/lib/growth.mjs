// Fills a Tessera store with live session-mode sessions, straight through the engine (the HTTP
// login path would spend ~20 ms of argon2id on each), and returns valid tokens for a uniform
// sample of them. Tokens have Tessera's `<id>.<secret>` shape: 16 and 32 random bytes in
// base64url; a stored session keeps only SHA-256(secret) in hex.
//
// - SQLite: rows in the server's database file, in large transactions.
// - PostgreSQL: rows in the server's schema, 20,000 per multi-row INSERT (unnest of arrays), then
//   ANALYZE; a CHECKPOINT once all are in.
// - Redis: the hot-path copies that RedisCachedSessionStore writes at login (src/store/redis/scripts.ts,
//   PUT_SESSION): the hash `s:<id>` with its PX, the user's set `u:<userId>` and the two sweep
//   sorted sets, pipelined. Only the copies: a request whose copy is found never reads SQL.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import pg from 'pg';
import { REDIS_URL } from './services.mjs';

const SQLITE_BATCH = 50_000;
const PG_BATCH = 20_000;
const REDIS_BATCH = 10_000;
const IP = '127.0.0.1';
const USER_AGENT = 'tessera-bench';

/**
 * The times every inserted session gets. lastSeenAt a few minutes ahead: sliding renewal (one
 * write per session per minute) stays out of the measurement, which is about finding a session
 * among many, not about writes.
 */
function times() {
  const now = Date.now();
  return { now, lastSeenAt: now + 10 * 60_000, expiresAt: now + 12 * 3_600_000 };
}

let aborted = false;
const workers = new Set();

/** Stops every fill in progress after its current batch (and SQLite's worker at once): Ctrl-C. */
export function abortInserts() {
  aborted = true;
  for (const worker of workers) worker.terminate();
}

/**
 * `count` new sessions in batches of `batch`: calls `write(ids, hashes)` for each (awaited) and
 * returns `sampleSize` tokens spread evenly over all of them.
 */
async function generate(count, sampleSize, batch, write) {
  const every = Math.max(1, Math.floor(count / sampleSize));
  const tokens = [];
  for (let offset = 0; offset < count; offset += batch) {
    if (aborted) throw new Error('aborted');
    const n = Math.min(batch, count - offset);
    const random = randomBytes(n * 48);
    const ids = new Array(n);
    const hashes = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = random.subarray(i * 48, i * 48 + 16).toString('base64url');
      const secret = random.subarray(i * 48 + 16, i * 48 + 48).toString('base64url');
      ids[i] = id;
      hashes[i] = createHash('sha256').update(secret).digest('hex');
      if ((offset + i) % every === 0 && tokens.length < sampleSize) tokens.push(`${id}.${secret}`);
    }
    await write(ids, hashes);
  }
  return tokens;
}

/**
 * @param {string} file the server's database (WAL: the server may keep it open meanwhile)
 * @param {string} userId an existing user, so validation finds its owner
 * @param {number} count sessions to add
 * @param {number} sampleSize how many of their tokens to return, spread evenly over all of them
 */
export async function insertSessions(file, userId, count, sampleSize) {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `insert into sessions (id, user_id, mode, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
     values (?, ?, 'session', ?, ?, ?, ?, ?, ?)`,
  );
  const { now, lastSeenAt, expiresAt } = times();
  const insertBatch = db.transaction((ids, hashes) => {
    for (let i = 0; i < ids.length; i++)
      insert.run(ids[i], userId, hashes[i], now, lastSeenAt, expiresAt, IP, USER_AGENT);
  });
  try {
    return await generate(count, sampleSize, SQLITE_BATCH, async (ids, hashes) => insertBatch(ids, hashes));
  } finally {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
}

/**
 * insertSessions in a worker thread: better-sqlite3 is synchronous, and the other stores fill
 * (and servers start) at the same time on this process's event loop.
 */
export async function insertSessionsInWorker(file, userId, count, sampleSize) {
  if (aborted) throw new Error('aborted');
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { insertSessions: [file, userId, count, sampleSize] },
  });
  workers.add(worker);
  try {
    const message = once(worker, 'message');
    const exit = once(worker, 'exit').then(([code]) => {
      throw new Error(`the SQLite fill stopped (${code})`);
    });
    exit.catch(() => {}); // after the message, the worker's normal exit is no failure
    const [tokens] = await Promise.race([message, exit]);
    return tokens;
  } finally {
    workers.delete(worker);
  }
}
if (!isMainThread && workerData?.insertSessions) {
  parentPort.postMessage(await insertSessions(...workerData.insertSessions));
}

/**
 * PostgreSQL: the same rows in the server's schema (`url` sets its search_path), then ANALYZE
 * (autovacuum may be off, and the planner should know the table's size as a live one would).
 * Call checkpointPostgres once every store is filled.
 */
export async function insertPostgresSessions(url, userId, count, sampleSize) {
  // Two connections, a batch in flight on each: PostgreSQL runs a backend process per connection,
  // so the load uses both cores instead of one.
  const clients = [0, 1].map(() => new pg.Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const { now, lastSeenAt, expiresAt } = times();
    const inFlight = clients.map(() => Promise.resolve());
    let next = 0;
    const tokens = await generate(count, sampleSize, PG_BATCH, async (ids, hashes) => {
      const i = next++ % clients.length;
      await inFlight[i];
      inFlight[i] = clients[i].query(
        `insert into sessions (id, user_id, mode, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
         select id, $3, 'session', secret_hash, $4, $5, $6, $7, $8
         from unnest($1::text[], $2::text[]) as s(id, secret_hash)`,
        [ids, hashes, userId, now, lastSeenAt, expiresAt, IP, USER_AGENT],
      );
      // A failed batch is reported when its connection is next awaited (or below).
      inFlight[i].catch(() => {});
    });
    await Promise.all(inFlight);
    await clients[0].query('analyze sessions');
    return tokens;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}

/**
 * A CHECKPOINT, so the WAL of a bulk load is not flushed during a later measurement. Needs a
 * superuser (or pg_checkpoint); resolves false when it was not allowed.
 */
export async function checkpointPostgres(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('checkpoint');
    return true;
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

/** One command in RESP, as redis-cli --pipe sends it. */
const resp = (args) => {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
};

/**
 * A raw Redis connection for bulk loading: send(text, replies) writes commands already in RESP
 * and resolves once that many replies are in. Every command used here answers one line (an
 * integer, or an error, which rejects), so counting lines is parsing. ioredis spends tens of µs
 * of JavaScript and garbage per pipelined command; this about one.
 */
async function redisPipe(url) {
  const { hostname, port, username, password } = new URL(url);
  const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || 6379 });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const queue = [];
  let lineStart = true;
  socket.on('data', (data) => {
    let at = 0;
    while (at < data.length && queue.length > 0) {
      const head = queue[0];
      if (lineStart && data[at] === 45 /* - */ && !head.error) {
        head.error = data.toString('latin1', at, Math.min(data.length, at + 200)).split('\r\n')[0];
      }
      const newline = data.indexOf(10, at);
      if (newline === -1) {
        lineStart = false;
        break;
      }
      lineStart = true;
      at = newline + 1;
      if (--head.left === 0) {
        queue.shift();
        if (head.error) head.reject(new Error(`Redis: ${head.error}`));
        else head.resolve();
      }
    }
  });
  socket.on('error', (error) => {
    for (const waiting of queue.splice(0)) waiting.reject(error);
  });
  const send = (text, replies) =>
    new Promise((resolve, reject) => {
      queue.push({ left: replies, resolve, reject });
      socket.write(text);
    });
  if (password) {
    const auth = ['AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password)];
    await send(resp(auth), 1);
  }
  return { send, close: () => socket.destroy() };
}

/**
 * Redis: the copies RedisCachedSessionStore makes at login, under `prefix` (the server's
 * TESSERA_REDIS_PREFIX), exactly as PUT_SESSION writes them: HSET of the record's fields (numbers
 * as decimal strings), PEXPIRE to the absolute expiry, the id in `u:<userId>`, and
 * `<userId>:<id>` in `sweep:seen` (by lastSeenAt) and `sweep:expires` (by expiresAt).
 * The session ids are appended to `ids`, for removeRedisSessions.
 */
export async function insertRedisSessions(prefix, userId, count, sampleSize, ids = []) {
  const redis = await redisPipe(REDIS_URL);
  try {
    const { now, lastSeenAt, expiresAt } = times();
    const ttlMs = Math.max(1, expiresAt - Date.now());
    const userKey = `${prefix}u:${userId}`;
    // Field names and constant values in RESP once; each session adds its key, hash and member.
    // Every string here is ASCII (base64url ids, hex, the prefix's own alphabet): length = bytes.
    const bulk = (text) => `$${text.length}\r\n${text}\r\n`;
    const hashFields = bulk('userId') + bulk(userId) + bulk('mode') + bulk('session') + bulk('secretHash');
    const hashRest = [
      'createdAt',
      now,
      'lastSeenAt',
      lastSeenAt,
      'expiresAt',
      expiresAt,
      'ip',
      IP,
      'userAgent',
      USER_AGENT,
      // The login's auth context (migration 0011); a copy without it is a miss, answered by SQL.
      'authTime',
      now,
      'amr',
      '["pwd"]',
      'acr',
      'aal1',
    ]
      .map((part) => bulk(String(part)))
      .join('');
    const ttl = bulk(String(ttlMs));
    // One batch in flight while the next is built: Redis and this process work side by side.
    let inFlight = Promise.resolve();
    const tokens = await generate(count, sampleSize, REDIS_BATCH, async (batch, hashes) => {
      ids.push(...batch);
      let text = '';
      for (let i = 0; i < batch.length; i++) {
        const key = bulk(`${prefix}s:${batch[i]}`);
        text += `*24\r\n$4\r\nHSET\r\n${key}${hashFields}${bulk(hashes[i])}${hashRest}`;
        text += `*3\r\n$7\r\nPEXPIRE\r\n${key}${ttl}`;
      }
      text += resp(['SADD', userKey, ...batch]);
      text += resp(['PEXPIRE', userKey, ttlMs]);
      for (const [set, score] of [
        ['sweep:seen', lastSeenAt],
        ['sweep:expires', expiresAt],
      ]) {
        text += `*${2 + batch.length * 2}\r\n${bulk('ZADD')}${bulk(`${prefix}${set}`)}`;
        const s = bulk(String(score));
        for (const id of batch) text += s + bulk(`${userId}:${id}`);
      }
      await inFlight;
      inFlight = redis.send(text, batch.length * 2 + 4);
      // A failed batch is reported by the next await (or the last one, below).
      inFlight.catch(() => {});
    });
    await inFlight;
    return tokens;
  } finally {
    redis.close();
  }
}

/**
 * Deletes the copies insertRedisSessions made (UNLINK by name, 10,000 a command: much faster than
 * finding a million keys with SCAN), and the user's set and sweep indexes under `prefix`.
 */
export async function removeRedisSessions(prefix, userId, ids) {
  const redis = await redisPipe(REDIS_URL);
  try {
    for (let i = 0; i < ids.length; i += REDIS_BATCH) {
      const keys = ids.slice(i, i + REDIS_BATCH).map((id) => `${prefix}s:${id}`);
      await redis.send(resp(['UNLINK', ...keys]), 1);
    }
    await redis.send(
      resp(['UNLINK', `${prefix}u:${userId}`, `${prefix}sweep:seen`, `${prefix}sweep:expires`]),
      1,
    );
  } finally {
    redis.close();
  }
}
