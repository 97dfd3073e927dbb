// autocannon against one URL: throughput (-c 50, no pipelining) or a fixed overall rate.
// Latencies are taken from every response (float ms, no coordinated-omission filling), so
// p50/p99 are exact for the run rather than rounded to autocannon's 1 ms histogram buckets.
import autocannon from 'autocannon';
import { percentile } from './util.mjs';

/**
 * @param {object} o
 * @param {string} o.url base URL
 * @param {string} [o.path]
 * @param {string} [o.method]
 * @param {Record<string,string>} [o.headers]
 * @param {string} [o.body]
 * @param {string[]} [o.cookies] rotate through these Cookie headers, one per request
 * @param {number} o.seconds
 * @param {number} [o.connections]
 * @param {number} [o.rate] overall requests per second (autocannon overallRate); omitted: as fast as possible
 */
export function load(o) {
  const latencies = [];
  const options = {
    url: `${o.url}${o.path ?? '/auth/session'}`,
    method: o.method ?? 'GET',
    headers: o.headers ?? {},
    connections: o.connections ?? 50,
    pipelining: 1,
    duration: o.seconds,
    timeout: 10,
  };
  if (o.body !== undefined) options.body = o.body;
  if (o.rate) options.overallRate = Math.max(1, Math.round(o.rate));
  if (o.cookies?.length) {
    let next = 0;
    const { cookies } = o;
    options.requests = [
      {
        setupRequest: (request) => {
          request.headers = { ...request.headers, cookie: cookies[next++ % cookies.length] };
          return request;
        },
      },
    ];
  }
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const elapsedMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const ok = result['2xx'];
      resolve({
        rps: ok / result.duration,
        requests: ok,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        // Share of one core the load generator used: near 1.0 means it, not the server, was the limit.
        loadgenCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** A run is valid only with zero non-2xx, errors and timeouts. */
export const failureOf = (run) =>
  run.non2xx + run.errors + run.timeouts > 0
    ? `${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts`
    : undefined;

/**
 * Several loads side by side, summed: e.g. N single-connection clients each logging in as its
 * own user (one account per client, as real logins are; the rate limiter rightly refuses a
 * burst of parallel logins to one account from one address).
 */
export async function loadMany(optionsList) {
  const runs = await Promise.all(optionsList.map((o) => load(o)));
  const sum = (field) => runs.reduce((total, run) => total + run[field], 0);
  return {
    rps: sum('rps'),
    requests: sum('requests'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    loadgenCpu: Math.max(...runs.map((r) => r.loadgenCpu)),
  };
}
