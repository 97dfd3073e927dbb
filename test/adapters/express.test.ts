import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAuth } from '../../src/adapters/express.js';
import { adapterContract } from './scenarios.js';

adapterContract('express', async (verifier) => {
  const { requireAuth } = createAuth(verifier);
  const app = express();
  app.get('/me', requireAuth(), (req, res) => {
    res.json(req.principal);
  });
  app.post('/transfers', requireAuth(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/admin', requireAuth({ roles: ['admin'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/statements', requireAuth({ scopes: ['accounts:read'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/payees', requireAuth({ freshWithin: '2m' }), (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/wires', requireAuth({ amr: ['otp', 'hwk', 'swk'] }), (_req, res) => {
    res.json({ ok: true });
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
