import Fastify from 'fastify';
import { createAuth } from '../../src/adapters/fastify.js';
import { adapterContract } from './scenarios.js';

adapterContract('fastify', async (verifier) => {
  const { requireAuth } = createAuth(verifier);
  const app = Fastify();
  app.get('/me', { preHandler: requireAuth() }, async (request) => request.principal);
  app.post('/transfers', { preHandler: requireAuth() }, async () => ({ ok: true }));
  app.get('/admin', { preHandler: requireAuth({ roles: ['admin'] }) }, async () => ({ ok: true }));
  app.get('/statements', { preHandler: requireAuth({ scopes: ['accounts:read'] }) }, async () => ({
    ok: true,
  }));
  app.post('/payees', { preHandler: requireAuth({ freshWithin: '2m' }) }, async () => ({ ok: true }));
  app.post('/wires', { preHandler: requireAuth({ amr: ['otp', 'hwk', 'swk'] }) }, async () => ({ ok: true }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
