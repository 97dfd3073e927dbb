// The per-request cost of metrics (issue 21: ≤ 2 µs): the onResponse work the metrics plugin
// attaches to every route, timed in a loop on real fastify request/reply objects, against the
// same loop with an empty hook. Run after `npm run build`: node bench/metrics-hook.mjs

import { loadConfig } from '../dist/config.js';
import { buildApp } from '../dist/http/app.js';
import { timingHook } from '../dist/http/plugins/metrics.js';
import { createTessera } from '../dist/tessera.js';

const tessera = await createTessera(
  loadConfig({
    TESSERA_DATABASE_URL: 'memory:',
    TESSERA_METRICS_TOKEN: 'x'.repeat(40),
    TESSERA_RATE_LIMIT: 'off',
  }),
);
const app = await buildApp(tessera, { logger: false });
let captured;
app.addHook('onResponse', (request, reply, done) => {
  captured ??= { request, reply };
  done();
});
await app.inject({ method: 'GET', url: '/healthz' });
const { request, reply } = captured;
// The hook the plugin attaches to each route, over GET /healthz's own series.
const timed = timingHook(tessera.metrics.requests.series('GET', '/healthz'));
const empty = (_request, _reply, done) => done();
const noop = () => {};

function measure(fn, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(request, reply, noop);
  return Number(process.hrtime.bigint() - start) / n;
}
const N = 2_000_000;
for (let round = 0; round < 3; round++) {
  measure(timed, N / 10);
  measure(empty, N / 10);
}
const results = [];
for (let round = 0; round < 5; round++) results.push(measure(timed, N) - measure(empty, N));
results.sort((a, b) => a - b);
console.log(
  `metrics onResponse work per request: median ${results[2].toFixed(0)} ns (min ${results[0].toFixed(0)}, max ${results[4].toFixed(0)}) over 5 × ${N} calls`,
);
await app.close();
await tessera.close();
