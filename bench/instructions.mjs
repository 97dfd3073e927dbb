// Instruction counts per request, repeatable on a busy machine (valgrind counts instructions,
// not time): `valgrind --tool=callgrind node bench/instructions.mjs <target> <warm-up> <n>`
// runs `n` in-process GET /auth/session (fastify inject, no sockets) after `warm-up`; the
// difference between a run with n and one with n = 0, divided by n, is one request. A full
// garbage collection before and after the measured loop (--expose-gc) charges each run its own
// garbage; without it, whether a major collection falls inside the loop moves a 1,500-request
// run by ±10 %.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { loadConfig } from '../dist/config.js';
import { buildApp } from '../dist/http/app.js';
import { createTessera } from '../dist/tessera.js';
import { fastifyLogging, sessionBody } from './servers/common.mjs';

const [target, warmArg = '3000', nArg = '0'] = process.argv.slice(2);
const KEK = 'a1'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'tessera-instructions-'));
const ENV = {
  'no-auth': { TESSERA_DATABASE_URL: 'memory:' },
  jwt: { TESSERA_MODE: 'jwt', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  hybrid: { TESSERA_MODE: 'hybrid', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  memory: { TESSERA_DATABASE_URL: 'memory:' },
  sqlite: { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'i.db')}` },
};
let run;
if (target === 'fastify') {
  const app = Fastify({ ...fastifyLogging });
  app.get('/auth/session', async () => sessionBody);
  await app.ready();
  run = () => app.inject({ method: 'GET', url: '/auth/session' });
} else {
  const tessera = await createTessera(
    loadConfig({ TESSERA_RATE_LIMIT: 'off', TESSERA_PASSWORD_HASH_THREADS: '1', ...ENV[target] }),
  );
  const app = await buildApp(tessera);
  app.get('/bench/no-auth', async () => sessionBody);
  await app.ready();
  const post = (url, body) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body });
  const credentials = { email: 'bench@example.com', password: 'correct horse battery staple' };
  let headers = {};
  let url = '/bench/no-auth';
  if (target !== 'no-auth') {
    await post('/auth/register', credentials);
    const body = (await post('/auth/login', { ...credentials, transport: 'bearer' })).json();
    headers = { authorization: `Bearer ${body.token ?? body.accessToken}` };
    url = '/auth/session';
  }
  run = () => app.inject({ method: 'GET', url, headers });
}
for (let i = 0; i < Number(warmArg); i++) await run();
const check = await run();
if (check.statusCode !== 200) throw new Error(`${target}: ${check.statusCode}`);
globalThis.gc?.();
for (let i = 0; i < Number(nArg); i++) await run();
globalThis.gc?.();
process.exit(0);
