// Fills a Tessera SQLite database with live session-mode sessions, straight through SQL in
// large transactions (the HTTP login path would spend ~20 ms of argon2id on each), and returns
// valid tokens for a uniform sample of them. Tokens have Tessera's `<id>.<secret>` shape: 16
// and 32 random bytes in base64url; the row keeps only SHA-256(secret) in hex.
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

const BATCH = 50_000;

/**
 * @param {string} file the server's database (WAL: the server may keep it open meanwhile)
 * @param {string} userId an existing user, so validation finds its owner
 * @param {number} count sessions to add
 * @param {number} sampleSize how many of their tokens to return, spread evenly over all of them
 */
export function insertSessions(file, userId, count, sampleSize) {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `insert into sessions (id, user_id, mode, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
     values (?, ?, 'session', ?, ?, ?, ?, '127.0.0.1', 'tessera-bench')`,
  );
  const now = Date.now();
  // lastSeenAt a few minutes ahead: sliding renewal (one write per session per minute) stays
  // out of the measurement, which is about finding a row among many, not about writes.
  const lastSeenAt = now + 10 * 60_000;
  const expiresAt = now + 12 * 3_600_000;
  const every = Math.max(1, Math.floor(count / sampleSize));
  const tokens = [];
  const insertBatch = db.transaction((n, offset) => {
    const random = randomBytes(n * 48);
    for (let i = 0; i < n; i++) {
      const id = random.subarray(i * 48, i * 48 + 16).toString('base64url');
      const secret = random.subarray(i * 48 + 16, i * 48 + 48).toString('base64url');
      insert.run(id, userId, createHash('sha256').update(secret).digest('hex'), now, lastSeenAt, expiresAt);
      if ((offset + i) % every === 0 && tokens.length < sampleSize) tokens.push(`${id}.${secret}`);
    }
  });
  for (let offset = 0; offset < count; offset += BATCH) insertBatch(Math.min(BATCH, count - offset), offset);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return tokens;
}
