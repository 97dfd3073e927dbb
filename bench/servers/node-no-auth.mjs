// Baseline: raw node:http answering the same JSON as GET /auth/session, no auth, logging like Tessera.
import { createServer } from 'node:http';
import { host, port, requestLogger, sessionBody } from './common.mjs';

const logRequest = requestLogger();
const payload = JSON.stringify(sessionBody);
const server = createServer((req, res) => {
  logRequest(req, res);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(payload);
});
server.listen(port, host);
process.once('SIGTERM', () => server.close());
