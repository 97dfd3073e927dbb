import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import type { TesseraConfig } from '../config.js';
import { flushLog, logDestination } from '../http/log-destination.js';
import { CLUSTER_BUS_MESSAGE } from '../store/cluster-bus.js';
import { createTessera } from '../tessera.js';
import { DRAIN_MS, IN_FLIGHT_BOUND_MS } from './graceful-shutdown.js';

/**
 * `tessera serve --workers N` (TESSERA_WORKERS): this process becomes the cluster primary and
 * N worker processes serve the one port (node:cluster hands connections out round-robin).
 * Every worker is an ordinary `tessera serve` on the same database (an SQLite file in WAL mode,
 * or PostgreSQL), so what one process guarantees holds across them:
 * - sessions, logouts, locks: the database is the state, as between nodes;
 * - signing keys: in the database, reloaded every 5 s by every worker (a rotation or revocation
 *   from any worker or the CLI reaches all within that bound, as between nodes);
 * - hybrid revocations: the revocation log plus a bus. PostgreSQL and Redis have theirs; on
 *   SQLite the workers' bus is this primary, which relays each worker's record to the others
 *   over IPC (store/cluster-bus.ts), the log's catch-up covering any gap;
 * - the anti-CSRF key: TESSERA_CSRF_SECRET or the KEK when set; otherwise one random key made
 *   here and handed to every worker, so a token from one worker passes on the others (and, as
 *   with one process, dies with this one);
 * - rate limits without Redis: the counts live here, every worker asks over IPC
 *   (http/plugins/backoff.ts clusterCounters), so N workers allow what one process allows.
 *
 * Start-up work that must happen once (migrations, the generated KEK file outside production,
 * the first signing keys, the served-mode record) runs here first, by opening Tessera once and
 * closing it, before any worker starts: workers never race to create them.
 *
 * SIGTERM/SIGINT: every worker drains as one process does (graceful-shutdown.ts); this process
 * exits once all have, 0 if every worker exited 0. A worker that dies after it was serving is
 * replaced (at most MAX_RESTARTS a minute); one that fails before listening stops everything,
 * since its siblings would fail the same way.
 */
const MAX_RESTARTS = 5;

/** Set in a worker's environment by the primary: the anti-CSRF secret it generated. */
const CSRF_SECRET_VARIABLE = 'TESSERA_CSRF_SECRET';

export async function serveWorkers(config: TesseraConfig): Promise<void> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'primary' } }, logDestination());
  // The workers log the start-up warnings themselves.
  await (await createTessera(config)).close();

  const env: Record<string, string> = {};
  if (!config.csrfSecret && !config.keyEncryptionKey) {
    env[CSRF_SECRET_VARIABLE] = randomBytes(32).toString('hex');
    if (config.production)
      log.warn(
        'TESSERA_CSRF_SECRET is not set: anti-CSRF tokens are valid until this server restarts. Set it (openssl rand -hex 32) on every node.',
      );
  }
  if (config.rateLimit && !config.redis) new RateLimiterClusterMaster();

  // Hybrid on SQLite: relay each worker's revocation record to the other workers.
  cluster.on('message', (from, message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== CLUSTER_BUS_MESSAGE) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== from && worker.isConnected())
        worker.send(message as object, undefined, () => {});
    }
  });

  const listening = new Set<Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let exitCode = 0;
  const fork = () => cluster.fork(env);

  const stopAll = (code: number) => {
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    // Each worker's drain is bounded (graceful-shutdown.ts); one that outlives the bounds is killed.
    setTimeout(
      () => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      },
      DRAIN_MS + IN_FLIGHT_BOUND_MS + 5_000,
    ).unref();
  };

  cluster.on('listening', (worker, address) => {
    listening.add(worker);
    if (listening.size === config.workers && !stopping) {
      log.info(
        { workers: config.workers, mode: config.mode },
        `tessera: ${config.workers} workers serving on port ${address.port}`,
      );
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const served = listening.delete(worker);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        flushLog();
        process.exit(exitCode);
      }
      return;
    }
    if (!served) {
      log.error({ worker: worker.process.pid, code, signal }, 'a worker failed to start: stopping');
      stopAll(1);
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      log.error({ worker: worker.process.pid, code, signal }, 'workers keep dying: stopping');
      stopAll(1);
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, 'a worker died: starting another');
    fork();
  });

  process.once('SIGTERM', () => stopAll(0));
  process.once('SIGINT', () => stopAll(0));
  for (let i = 0; i < config.workers; i++) fork();
}
