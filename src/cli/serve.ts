import { describeDatabase, loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { redactRedisUrl } from '../store/redis/connection.js';
import { createTessera } from '../tessera.js';

/** Starts the server and shuts it down cleanly on SIGINT/SIGTERM (in-flight requests finish). */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const tessera = await createTessera(config);
  const app = await buildApp(tessera);
  for (const warning of tessera.warnings) app.log.warn(warning);
  tessera.startBackgroundJobs((error) => app.log.error({ err: error }, 'background job failed'));
  const stop = async () => {
    await app.close();
    await tessera.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const address = await app.listen({ port: config.port, host: config.host });
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
