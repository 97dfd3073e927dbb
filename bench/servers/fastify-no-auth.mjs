// Baseline: fastify answering the same JSON shape as GET /auth/session, with no auth at all.
import Fastify from 'fastify';

const body = {
  user: { id: 'kMdkNZWWXF_cw37t_F-usw', email: 'bench@example.com', roles: [] },
  session: {
    id: 'rewaa_hi3yXi0owz-3nsmw',
    mode: 'session',
    createdAt: '2026-11-28T05:13:27.223Z',
    expiresAt: '2026-11-28T05:43:27.223Z',
    absoluteExpiresAt: '2026-11-28T17:13:27.223Z',
  },
};
// Logs requests like Tessera does (pino, info), so the ratio measures auth, not logging.
const app = Fastify({ logger: true });
app.get('/auth/session', async () => body);
await app.listen({ port: Number(process.env.TESSERA_PORT ?? 0), host: '127.0.0.1' });
