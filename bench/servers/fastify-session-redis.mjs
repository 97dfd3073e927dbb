// Peer: fastify 5 + @fastify/cookie + @fastify/session with a Redis store (connect-redis over
// node-redis 5, the store @fastify/session's README points to). Defaults otherwise.
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import Fastify from 'fastify';
import { createClient } from 'redis';
import { fastifyLogging, host, port, redisPrefix } from './common.mjs';

const redis = createClient({ url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' });
await redis.connect();
const prefix = redisPrefix('fastify-session');
const app = Fastify({ ...fastifyLogging });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store: new RedisStore({ client: redis, prefix }),
  secret: 'bench-secret-bench-secret-bench-secret',
  saveUninitialized: false,
  cookieName: 'sid',
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
});
app.post('/login', async (request) => {
  await request.session.regenerate();
  request.session.set('user', {
    id: 'kMdkNZWWXF_cw37t_F-usw',
    email: request.body?.email ?? 'bench@example.com',
    roles: [],
  });
  request.session.set('createdAt', Date.now());
  return { user: request.session.get('user') };
});
app.get('/auth/session', async (request, reply) => {
  const user = request.session.get('user');
  if (!user) return reply.code(401).send({ error: 'unauthenticated' });
  return {
    user,
    session: {
      id: request.session.sessionId,
      mode: 'session',
      createdAt: new Date(request.session.get('createdAt')).toISOString(),
      expiresAt: request.session.cookie.expires?.toISOString(),
    },
  };
});
await app.listen({ port, host });
process.once('SIGTERM', async () => {
  await app.close();
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await redis.del(keys);
  }
  await redis.quit();
});
