// Peer baseline: express 5 answering the same JSON, no auth, logging like Tessera.
import express from 'express';
import { host, port, requestLogger, sessionBody } from './common.mjs';

const logRequest = requestLogger();
const app = express();
app.disable('x-powered-by');
app.use((req, res, next) => {
  logRequest(req, res);
  next();
});
app.get('/auth/session', (_req, res) => res.json(sessionBody));
const server = app.listen(port, host);
process.once('SIGTERM', () => server.close());
