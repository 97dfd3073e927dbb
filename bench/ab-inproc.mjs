// `node bench/ab-inproc.mjs <other checkout> [targets] > /tmp/log`: another build of Tessera (its
// dist/, e.g. main's, built in a copy of the tree) against this one, in one process: both apps
// answer GET /auth/session through fastify's inject in interleaved batches and the medians of
// CPU per request are compared. Interleaving in one process makes the ratio hold on a busy
// machine, where whole-server measurements drift by more than the difference being measured.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const baseDir = process.argv[2];
const targets = (process.argv[3] ?? 'no-auth,jwt,memory,sqlite').split(',');
const KEK = 'a1'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'ab-'));
const ENV = {
  'no-auth': { TESSERA_DATABASE_URL: 'memory:' },
  jwt: { TESSERA_MODE: 'jwt', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  hybrid: { TESSERA_MODE: 'hybrid', TESSERA_DATABASE_URL: 'memory:', TESSERA_KEY_ENCRYPTION_KEY: KEK },
  memory: { TESSERA_DATABASE_URL: 'memory:' },
  sqlite: { TESSERA_DATABASE_URL: 'sqlite' },
};
async function make(root, tag, target) {
  const { loadConfig } = await import(`${root}/dist/config.js`);
  const { buildApp } = await import(`${root}/dist/http/app.js`);
  const { createTessera } = await import(`${root}/dist/tessera.js`);
  const env = { ...ENV[target] };
  if (env.TESSERA_DATABASE_URL === 'sqlite')
    env.TESSERA_DATABASE_URL = `sqlite://${join(dir, `${tag}-${target}.db`)}`;
  const tessera = await createTessera(
    loadConfig({ TESSERA_RATE_LIMIT: 'off', TESSERA_PASSWORD_HASH_THREADS: '1', ...env }),
  );
  const app = await buildApp(tessera);
  app.get('/bench/no-auth', async () => ({ user: { id: 'x', email: 'bench@example.com', roles: [] } }));
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
  const run = () => app.inject({ method: 'GET', url, headers });
  if ((await run()).statusCode !== 200) throw new Error(`${tag} ${target}`);
  return run;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const BATCH = 2000;
for (const target of targets) {
  const runs = { base: await make(baseDir, 'base', target), new: await make(process.cwd(), 'new', target) };
  const costs = { base: [], new: [] };
  const ROUNDS = Number(process.env.AB_ROUNDS ?? 9);
  for (let round = 0; round < ROUNDS; round++) {
    for (const tag of round % 2 ? ['base', 'new'] : ['new', 'base']) {
      const before = process.cpuUsage();
      for (let i = 0; i < BATCH; i++) await runs[tag]();
      const used = process.cpuUsage(before);
      if (round > 0) costs[tag].push((used.user + used.system) / BATCH);
    }
  }
  const b = median(costs.base);
  const n = median(costs.new);
  console.error(
    `${target.padEnd(8)} base ${b.toFixed(1)} µs  new ${n.toFixed(1)} µs  new/base ${(n / b).toFixed(3)}`,
  );
}
process.exit(0);
