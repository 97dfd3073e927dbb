import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { type AuthEnv, createAuth } from '../../src/adapters/hono.js';
import { adapterContract } from './scenarios.js';

adapterContract('hono', async (verifier) => {
  const { requireAuth } = createAuth(verifier);
  const app = new Hono<AuthEnv>();
  app.get('/me', requireAuth(), (c) => c.json(c.get('principal')));
  app.post('/transfers', requireAuth(), (c) => c.json({ ok: true }));
  app.get('/admin', requireAuth({ roles: ['admin'] }), (c) => c.json({ ok: true }));
  app.get('/statements', requireAuth({ scopes: ['accounts:read'] }), (c) => c.json({ ok: true }));
  app.post('/payees', requireAuth({ freshWithin: '2m' }), (c) => c.json({ ok: true }));
  app.post('/wires', requireAuth({ amr: ['otp', 'hwk', 'swk'] }), (c) => c.json({ ok: true }));
  const server = createServer((req, res) => void serve(app, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

/** Hono speaks fetch's Request/Response; node:http bridged by hand (no @hono/node-server needed). */
async function serve(app: Hono<AuthEnv>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
  const response = await app.fetch(
    new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
    }),
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}
