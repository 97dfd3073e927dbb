// `tessera serve --workers N` on this machine: session mode on one SQLite file, 1 process (pinned
// to core 0, as every other target) against 2 workers (on cores 0 and 1, the second shared with
// the load generator: a 2-core machine has no third core to give it). CPU per request counts
// every process of the server (primary and workers) and should not grow with the workers;
// throughput scaling is reported as measured, whatever it is.
import { join } from 'node:path';
import { load } from './load.mjs';
import { tesseraLogin } from './targets.mjs';
import { cpuSecondsOfTree, median, round, sleep, startServer } from './util.mjs';

export async function workersSection({ dir, rounds, seconds, warmupSeconds, failures }) {
  const setups = [
    { workers: 1, cores: '0' },
    { workers: 2, cores: '0,1' },
  ];
  // Side by side: start-up is mostly waiting.
  const servers = await Promise.all(
    setups.map(async (setup) => {
      const env = {
        TESSERA_DATABASE_URL: `sqlite://${join(dir, `workers-${setup.workers}.db`)}`,
        TESSERA_WORKERS: String(setup.workers),
      };
      const server = await startServer('bench/servers/tessera.mjs', [], env, [], { cores: setup.cores });
      // /healthz answers once the first worker listens; give the others their start-up.
      await sleep(2_000);
      const { cookie } = await tesseraLogin(server.url, true);
      return { ...setup, server, cookie, runs: [] };
    }),
  );
  for (const s of servers) {
    if (warmupSeconds > 0)
      await load({ url: s.server.url, headers: { cookie: s.cookie }, seconds: warmupSeconds });
  }
  for (let r = 0; r < rounds; r++) {
    for (const s of servers) {
      const before = cpuSecondsOfTree(s.server.pid);
      const run = await load({ url: s.server.url, headers: { cookie: s.cookie }, seconds });
      const cpu = cpuSecondsOfTree(s.server.pid) - before;
      if (run.non2xx || run.errors || run.timeouts)
        failures.push(
          `workers ${s.workers}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts`,
        );
      s.runs.push({ rps: run.rps, cpuMicroseconds: (cpu * 1e6) / run.requests, loadgenCpu: run.loadgenCpu });
    }
  }
  for (const s of servers) {
    const code = await s.server.stop();
    if (code !== 0 && code !== null) failures.push(`workers ${s.workers}: server exited with ${code}`);
  }
  const [one] = servers;
  return {
    rows: servers.map((s) => ({
      id: `workers-${s.workers}`,
      name: `session on SQLite, ${s.workers === 1 ? '1 process (core 0)' : `${s.workers} workers (cores 0-1, core 1 shared with the load generator)`}`,
      workers: s.workers,
      rps: round(median(s.runs.map((run) => run.rps)), 0),
      cpuMicroseconds: round(median(s.runs.map((run) => run.cpuMicroseconds)), 1),
      throughputRatio: round(median(s.runs.map((run, i) => run.rps / one.runs[i].rps))),
      cpuRatio: round(median(s.runs.map((run, i) => run.cpuMicroseconds / one.runs[i].cpuMicroseconds))),
      loadgenCpu: round(median(s.runs.map((run) => run.loadgenCpu))),
    })),
  };
}
