// What tessera/fastify's requireAuth() costs per request, and how big tessera/client is.
// Run: npm run build && node test/adapters/overhead.mjs [--http]
// The same fastify route with and without requireAuth() (jwt mode: JWKS fetched, verified-token
// cache warm, i.e. the steady state), measured in-process with app.inject in interleaved
// batches, so that load from other processes hits both variants alike; medians are reported.
// --http adds an autocannon run of each over loopback (10 connections, 5 s each).
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildApp, createTessera, loadConfig } from 'tessera';
import { createAuth } from 'tessera/fastify';
import { buildSdkBundle } from '../../examples/bank/app.mjs';

const ROUNDS = 21;
const BATCH = 2_000;

const sdk = await buildSdkBundle();
console.log(`tessera/client: ${sdk.length} B minified, ${gzipSync(sdk).length} B gzipped`);

const config = loadConfig({
  TESSERA_MODE: 'jwt',
  TESSERA_DATABASE_URL: 'memory:',
  TESSERA_RATE_LIMIT: 'off',
  TESSERA_LOG_LEVEL: 'silent',
  TESSERA_KEY_ENCRYPTION_KEY: '11'.repeat(32),
});
const tessera = await createTessera(config);
const tesseraApp = await buildApp(tessera, { logger: false });
const tesseraUrl = await tesseraApp.listen({ port: 0, host: '127.0.0.1' });
const password = 'correct horse battery staple';
await tessera.accounts.register({ email: 'bench@example.com', password });
const login = await tesseraApp.inject({
  method: 'POST',
  url: '/auth/login',
  payload: { email: 'bench@example.com', password, transport: 'bearer' },
});
const headers = { authorization: `Bearer ${login.json().accessToken}` };

const { requireAuth, close, verifier } = createAuth({ mode: 'jwt', tesseraUrl, issuer: config.jwt.issuer });
const app = Fastify();
app.get('/open', async () => ({ ok: true }));
app.get('/guarded', { preHandler: requireAuth() }, async (request) => ({
  ok: true,
  user: request.principal.userId,
}));
await app.ready();
if ((await app.inject({ url: '/guarded', headers })).statusCode !== 200) throw new Error('not authenticated');

async function batch(url) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) await app.inject({ url, headers });
  return BATCH / (Number(process.hrtime.bigint() - start) / 1e9);
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
await batch('/open');
await batch('/guarded');
const open = [];
const guarded = [];
const overheadUs = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = await batch('/open');
  const b = await batch('/guarded');
  open.push(a);
  guarded.push(b);
  overheadUs.push(1e6 / b - 1e6 / a);
}
const fmt = (n) => Math.round(n).toLocaleString('en');
console.log(`in-process (app.inject), median of ${ROUNDS} interleaved batches of ${BATCH}:`);
console.log(`  no auth                        ${fmt(median(open))} ops/s`);
console.log(`  requireAuth(), jwt, warm cache ${fmt(median(guarded))} ops/s`);
console.log(`  overhead per request           ${median(overheadUs).toFixed(1)} µs`);

// The middleware's own work, without fastify around it: header parsing, cached verification.
const CALLS = 200_000;
const start = process.hrtime.bigint();
for (let i = 0; i < CALLS; i++) await verifier.authenticate(headers);
const perCall = Number(process.hrtime.bigint() - start) / 1e3 / CALLS;
console.log(
  `  verifier.authenticate alone    ${perCall.toFixed(2)} µs per call (${fmt(1e6 / perCall)} ops/s)`,
);

if (process.argv.includes('--http')) {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  for (const path of ['/open', '/guarded', '/open', '/guarded']) {
    const result = await autocannon({ url: `${url}${path}`, headers, connections: 10, duration: 5 });
    console.log(
      `  http ${path.padEnd(9)} ${fmt(result.requests.average)} req/s, p99 ${result.latency.p99} ms`,
    );
  }
}
await app.close();
await close();
await tesseraApp.close();
await tessera.close();
