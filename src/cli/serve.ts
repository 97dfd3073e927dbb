import cluster from 'node:cluster';
import { describeDatabase, loadConfig, type TesseraConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { clusterCounters } from '../http/plugins/backoff.js';
import { ClusterBus } from '../store/cluster-bus.js';
import { redactRedisUrl } from '../store/redis/connection.js';
import { createTessera } from '../tessera.js';
import { gracefulShutdown } from './graceful-shutdown.js';
import { serveWorkers } from './workers.js';

/**
 * The server cannot listen where it was told (port in use, host unknown): one line naming the
 * variable to fix.
 */
export class ListenError extends Error {
  override name = 'ListenError';
}

/**
 * Starts the server and shuts it down cleanly on SIGINT/SIGTERM (graceful-shutdown.ts). With
 * TESSERA_WORKERS above 1 this process becomes the cluster primary (workers.ts) and each worker
 * comes back here.
 */
export async function serve(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) return serveWorkers(config);
  if (!cluster.isWorker) return serveProcess(config);
  try {
    await serveProcess(config);
  } catch (error) {
    // The IPC channel would keep a worker that failed to start alive: the primary sees it exit.
    cluster.worker?.disconnect();
    throw error;
  }
}

async function serveProcess(config: TesseraConfig): Promise<void> {
  const worker = cluster.isWorker;
  const bus = worker && usesClusterBus(config) ? new ClusterBus() : undefined;
  const tessera = await createTessera(config, bus ? { bus } : {});
  let address: string;
  const app = await buildApp(
    tessera,
    // Without Redis, a worker's rate-limit counts are the primary's (one count for all workers).
    worker && config.rateLimit && !config.redis ? { rateLimits: { counters: clusterCounters } } : {},
  );
  const shutDown = gracefulShutdown(app, async () => {
    await tessera.close();
    await bus?.close();
    // The IPC channel would keep a worker alive once everything else is closed.
    if (worker) cluster.worker?.disconnect();
  });
  try {
    for (const warning of tessera.warnings) app.log.warn(warning);
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().catch(() => undefined);
    await tessera.close().catch(() => undefined);
    throw listenError(error, config.host, config.port);
  }
  tessera.startBackgroundJobs((error) => app.log.error({ err: error }, 'background job failed'));
  process.once('SIGINT', shutDown);
  process.once('SIGTERM', shutDown);
  // describeDatabase: a PostgreSQL URL's password never reaches the log.
  app.log.info(
    {
      mode: config.mode,
      store: describeDatabase(config.database),
      ...(config.redis && { redis: redactRedisUrl(config.redis.url), redisPrefix: config.redis.prefix }),
    },
    `tessera serving on ${address}`,
  );
}

/** Hybrid on SQLite: PostgreSQL and Redis have buses between processes; SQLite has the primary. */
function usesClusterBus(config: TesseraConfig): boolean {
  return config.mode === 'hybrid' && !config.redis && config.database.engine === 'sqlite';
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown })?.code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(
        `cannot listen on ${where}: TESSERA_PORT ${port} is already in use on TESSERA_HOST ${host}`,
      );
    case 'EACCES':
      return new ListenError(
        `cannot listen on ${where}: TESSERA_PORT ${port} needs privileges this process lacks`,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(
        `cannot listen on ${where}: TESSERA_HOST ${host} is not an address of this machine`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ListenError(
        `cannot listen on ${where}: TESSERA_HOST ${host} does not resolve to an address`,
      );
    default:
      return error;
  }
}
