// Diagnostic: Tessera's whole HTTP app (every plugin and global hook: security headers, CORS,
// Origin, anti-CSRF, rate limits, cookies, logging with redaction), plus one route that answers
// the same JSON as the no-auth baselines without authenticating. Against fastify-no-auth it
// prices the plugin stack; against Tessera's GET /auth/session, the authentication itself.

import { loadConfig } from '../../dist/config.js';
import { buildApp } from '../../dist/http/app.js';
import { createTessera } from '../../dist/tessera.js';
import { sessionBody } from './common.mjs';

const config = loadConfig();
const tessera = await createTessera(config);
const app = await buildApp(tessera);
app.get('/bench/no-auth', async () => sessionBody);
process.once('SIGTERM', async () => {
  await app.close();
  await tessera.close();
});
await app.listen({ port: config.port, host: config.host });
