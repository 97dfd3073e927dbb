// Baseline: fastify answering the same JSON shape as GET /auth/session, with no auth at all.
import Fastify from 'fastify';
import { fastifyLogging, host, port, sessionBody } from './common.mjs';

// Logs requests like Tessera does (pino, info), so the ratio measures auth, not logging.
const app = Fastify({ ...fastifyLogging });
app.get('/auth/session', async () => sessionBody);
await app.listen({ port, host });
process.once('SIGTERM', () => app.close());
