import type { Redis } from 'ioredis';

/**
 * The session cache's Lua scripts (sessions.ts). Each runs atomically in Redis, so a copy,
 * its user's index and the sweep indexes never disagree halfway, and "update only if the copy
 * exists" cannot race a delete. Keys the caller knows come in KEYS (ioredis prefixes them);
 * keys derived from a stored value (a user's index, a member's session) are built from the
 * prefix in ARGV[1], which is why Redis Cluster is not supported.
 *
 * Layout, relative to the prefix: `s:<sessionId>` hash (the record, PX = time to absolute
 * expiry); `u:<userId>` set of session ids (expires with the longest-lived member);
 * `sweep:seen` and `sweep:expires` sorted sets of `<userId>:<sessionId>` by lastSeenAt and by
 * expiresAt (session ids are base64url, so the last ':' splits a member).
 */

/** KEYS: s:id, u:userId, sweep:seen, sweep:expires. ARGV: ttlMs, id, member, lastSeenAt, expiresAt, field, value, … */
export const PUT_SESSION = `
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 6))
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('sadd', KEYS[2], ARGV[2])
if redis.call('pttl', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('pexpire', KEYS[2], ARGV[1])
end
redis.call('zadd', KEYS[3], ARGV[4], ARGV[3])
redis.call('zadd', KEYS[4], ARGV[5], ARGV[3])
return 1
`;

/** Sliding renewal of an existing copy; a missing copy stays missing. KEYS: s:id, sweep:seen. ARGV: lastSeenAt, id. */
export const TOUCH_SESSION = `
local userId = redis.call('hget', KEYS[1], 'userId')
if not userId then return 0 end
redis.call('hset', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('zadd', KEYS[2], ARGV[1], userId .. ':' .. ARGV[2])
return 1
`;

/** Drops copies by session id, with their index entries. KEYS: sweep:seen, sweep:expires. ARGV: prefix, id, … */
export const FORGET_SESSIONS = `
local deleted = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local key = ARGV[1] .. 's:' .. id
  local userId = redis.call('hget', key, 'userId')
  if userId then
    redis.call('srem', ARGV[1] .. 'u:' .. userId, id)
    redis.call('zrem', KEYS[1], userId .. ':' .. id)
    redis.call('zrem', KEYS[2], userId .. ':' .. id)
    deleted = deleted + redis.call('del', key)
  end
end
return deleted
`;

/** Drops every copy in a user's index but one. KEYS: u:userId, sweep:seen, sweep:expires. ARGV: prefix, userId, keepId ('' for none). */
export const FORGET_USER = `
for _, id in ipairs(redis.call('smembers', KEYS[1])) do
  if id ~= ARGV[3] then
    redis.call('del', ARGV[1] .. 's:' .. id)
    redis.call('srem', KEYS[1], id)
    redis.call('zrem', KEYS[2], ARGV[2] .. ':' .. id)
    redis.call('zrem', KEYS[3], ARGV[2] .. ':' .. id)
  end
end
return 1
`;

/**
 * One batch of the sweep: copies idle since ARGV[2] or expired by ARGV[3], read and dropped in
 * one step (so a session touched meanwhile is judged by its new time). Returns how many of each
 * were found; the caller repeats while a batch came back full.
 * KEYS: sweep:seen, sweep:expires. ARGV: prefix, idleBefore, now, batch size.
 */
export const FORGET_SWEPT = `
local idle = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[4])
local expired = redis.call('zrangebyscore', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, ARGV[4])
local function forget(member)
  local userId, id = string.match(member, '^(.*):([^:]*)$')
  if id then
    redis.call('del', ARGV[1] .. 's:' .. id)
    redis.call('srem', ARGV[1] .. 'u:' .. userId, id)
  end
  redis.call('zrem', KEYS[1], member)
  redis.call('zrem', KEYS[2], member)
end
for _, member in ipairs(idle) do forget(member) end
for _, member in ipairs(expired) do forget(member) end
return { #idle, #expired }
`;

/** Key names, relative to the connection's keyPrefix (layout: scripts.ts). */
export const sessionKey = (id: string) => `s:${id}`;
export const userKey = (userId: string) => `u:${userId}`;
/** Sorted sets of `<userId>:<sessionId>` by lastSeenAt and by expiresAt, for the sweep. */
export const SEEN = 'sweep:seen';
export const EXPIRES = 'sweep:expires';

export interface CacheCommands {
  tesseraPutSession(...args: Array<string | number>): Promise<unknown>;
  tesseraTouchSession(...args: Array<string | number>): Promise<unknown>;
  tesseraForgetSessions(...args: Array<string | number>): Promise<unknown>;
  tesseraForgetUser(...args: Array<string | number>): Promise<unknown>;
  tesseraForgetSwept(...args: Array<string | number>): Promise<unknown>;
}

/** Scripts run by EVALSHA (ioredis falls back to EVAL once per connection); keys get the prefix. */
export function defineCommands(redis: Redis): Redis & CacheCommands {
  redis.defineCommand('tesseraPutSession', { numberOfKeys: 4, lua: PUT_SESSION });
  redis.defineCommand('tesseraTouchSession', { numberOfKeys: 2, lua: TOUCH_SESSION });
  redis.defineCommand('tesseraForgetSessions', { numberOfKeys: 2, lua: FORGET_SESSIONS });
  redis.defineCommand('tesseraForgetUser', { numberOfKeys: 3, lua: FORGET_USER });
  redis.defineCommand('tesseraForgetSwept', { numberOfKeys: 2, lua: FORGET_SWEPT });
  return redis as Redis & CacheCommands;
}

const SCAN_BATCH = 1_000;

/** Every session copy and index under `prefix` (SCAN, not KEYS: the server keeps serving). */
export async function forgetEverything(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}s:*`, `${prefix}u:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
      cursor = next;
      // SCAN answers whole key names; ioredis prefixes the names given to UNLINK again.
      const names = keys.map((key) => key.slice(prefix.length));
      if (names.length > 0) await redis.unlink(...names);
    } while (cursor !== '0');
  }
  await redis.unlink(SEEN, EXPIRES);
}
