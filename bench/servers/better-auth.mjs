// Peer: better-auth on SQLite (better-sqlite3, WAL and synchronous=NORMAL like Tessera), mounted
// in fastify the way its fastify guide shows; GET /auth/session calls auth.api.getSession().
// BENCH_COOKIE_CACHE=on turns on session.cookieCache (a signed session_data cookie that lets
// getSession skip the database); its maxAge is 1 h so it cannot lapse during a bench run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { fromNodeHeaders } from 'better-auth/node';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { fastifyLogging, host, port } from './common.mjs';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-better-auth-'));
const database = new Database(join(dir, 'better-auth.db'));
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
const baseURL = `http://${host}:${port}`;
const cookieCache = process.env.BENCH_COOKIE_CACHE === 'on';
const options = {
  database,
  baseURL,
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  emailAndPassword: { enabled: true },
  session: cookieCache ? { cookieCache: { enabled: true, maxAge: 3600 } } : {},
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: 'error' },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const app = Fastify({ ...fastifyLogging });
app.route({
  method: ['GET', 'POST'],
  url: '/api/auth/*',
  async handler(request, reply) {
    const response = await auth.handler(
      new Request(new URL(request.url, baseURL), {
        method: request.method,
        headers: fromNodeHeaders(request.headers),
        ...(request.body ? { body: JSON.stringify(request.body) } : {}),
      }),
    );
    reply.status(response.status);
    for (const [name, value] of response.headers) {
      if (name !== 'set-cookie') reply.header(name, value);
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) reply.header('set-cookie', cookies);
    return reply.send(response.body ? await response.text() : null);
  },
});
app.get('/auth/session', async (request, reply) => {
  const session = await auth.api.getSession({ headers: fromNodeHeaders(request.headers) });
  if (!session) return reply.code(401).send({ error: 'unauthenticated' });
  return session;
});
await app.listen({ port, host });
process.once('SIGTERM', async () => {
  await app.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });
});
