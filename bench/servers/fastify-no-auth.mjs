// Baseline: fastify answering the same JSON shape as GET /auth/session, with no auth at all.
// BENCH_LOG=buffered: with Tessera's buffered stdout destination instead of pino's default.
import Fastify from 'fastify';
import { logDestination } from '../../dist/http/log-destination.js';
import { fastifyLogging, host, port, sessionBody } from './common.mjs';

// Logs requests like Tessera does (pino, info), so the ratio measures auth, not logging.
const logging =
  process.env.BENCH_LOG === 'buffered'
    ? { ...fastifyLogging, logger: { ...fastifyLogging.logger, stream: logDestination() } }
    : fastifyLogging;
const app = Fastify(logging);
app.get('/auth/session', async () => sessionBody);
await app.listen({ port, host });
process.once('SIGTERM', () => app.close());
