// Peer: express 5 + express-session + connect-redis (node-redis 5), the common Node session stack.
// Defaults as its README shows them (resave false, saveUninitialized false); note that with a
// store that implements touch, express-session refreshes the key's TTL on every request.
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { host, port, redisPrefix, requestLogger } from './common.mjs';

const redis = createClient({ url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' });
await redis.connect();
const prefix = redisPrefix('express-session');
const logRequest = requestLogger();
const app = express();
app.disable('x-powered-by');
app.use((req, res, next) => {
  logRequest(req, res);
  next();
});
app.use(express.json({ limit: '16kb' }));
app.use(
  session({
    store: new RedisStore({ client: redis, prefix }),
    secret: 'bench-secret-bench-secret-bench-secret',
    resave: false,
    saveUninitialized: false,
    name: 'sid',
    // The same lifetime and flags as Tessera's cookie (Secure is off: plain HTTP on loopback).
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
  }),
);
app.post('/login', (req, res, next) => {
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = {
      id: 'kMdkNZWWXF_cw37t_F-usw',
      email: req.body?.email ?? 'bench@example.com',
      roles: [],
    };
    req.session.createdAt = Date.now();
    res.json({ user: req.session.user });
  });
});
app.get('/auth/session', (req, res) => {
  if (!req.session.user) return res.status(401).json({ error: 'unauthenticated' });
  res.json({
    user: req.session.user,
    session: {
      id: req.sessionID,
      mode: 'session',
      createdAt: new Date(req.session.createdAt).toISOString(),
      expiresAt: req.session.cookie.expires.toISOString(),
    },
  });
});
const server = app.listen(port, host);
process.once('SIGTERM', async () => {
  server.close();
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await redis.del(keys);
  }
  await redis.quit();
});
