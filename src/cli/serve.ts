import { describeDatabase, loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { redactRedisUrl } from '../store/redis/connection.js';
import { createTessera } from '../tessera.js';
import { gracefulShutdown } from './graceful-shutdown.js';

/**
 * The server cannot listen where it was told (port in use, host unknown): one line naming the
 * variable to fix.
 */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** Starts the server and shuts it down cleanly on SIGINT/SIGTERM (graceful-shutdown.ts). */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const tessera = await createTessera(config);
  let address: string;
  const app = await buildApp(tessera);
  const shutDown = gracefulShutdown(app, () => tessera.close());
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
