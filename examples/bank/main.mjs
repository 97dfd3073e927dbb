// `npm run demo`: Tessera (port 3000) and Tessera Bank (port 4000) in one process.
// The mode comes from TESSERA_MODE (session, jwt or hybrid), like Tessera's own.
import { randomBytes } from 'node:crypto';
import { buildApp, createTessera, InProcessBus, loadConfig } from 'tessera';
import { createAuth } from 'tessera/fastify';
import { buildBankApp } from './app.mjs';

const PASSWORD = 'plum-Vortex-48-glacier-ink';
const USERS = [
  { email: 'admin@bank.example', roles: ['admin'] },
  { email: 'tom@bank.example', roles: ['teller'] },
  { email: 'alice@bank.example', roles: [] },
];

const config = loadConfig({
  // Demo defaults: a fresh in-memory database each start, a per-run anti-CSRF secret shared by
  // Tessera and the bank, and the bank (on loopback) trusted as the proxy in front of Tessera.
  TESSERA_DATABASE_URL: 'memory:',
  TESSERA_CSRF_SECRET: randomBytes(32).toString('hex'),
  TESSERA_TRUSTED_PROXIES: '127.0.0.1,::1',
  TESSERA_LOG_LEVEL: 'warn',
  ...process.env,
});
const bus = new InProcessBus();
const tessera = await createTessera(config, { bus });
tessera.startBackgroundJobs((error) => console.error(error));
for (const user of USERS) {
  if (!(await tessera.accounts.findByEmail(user.email))) {
    await tessera.accounts.register({ email: user.email, password: PASSWORD }, user.roles);
  }
}
const tesseraApp = await buildApp(tessera, { logger: false });
await tesseraApp.listen({ port: config.port, host: config.host });
const tesseraUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;

const auth = createAuth({
  mode: config.mode,
  tesseraUrl,
  issuer: config.jwt.issuer,
  audience: config.jwt.audience,
  csrfSecret: config.csrfSecret,
  // hybrid: the app reads the same revocation log and bus as Tessera (here: the same process;
  // across processes: revocations: await openRevocations() from tessera/revocations).
  ...(config.mode === 'hybrid' ? { revocations: { store: tessera.stores.revocations, bus } } : {}),
});
const bank = await buildBankApp({ auth, tesseraUrl, mode: config.mode });
const bankPort = Number(process.env.BANK_PORT ?? 4000);
await bank.listen({ port: bankPort, host: 'localhost' });

console.log(`Tessera (${config.mode} mode) on ${tesseraUrl}
Tessera Bank on http://localhost:${bankPort}  (open this one: it forwards /auth and /admin to Tessera)
Users (password "${PASSWORD}"): ${USERS.map((u) => `${u.email}${u.roles.length ? ` [${u.roles}]` : ''}`).join(', ')}
Admin console: http://localhost:${bankPort}/admin`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await bank.close();
    await auth.close();
    await tesseraApp.close();
    await tessera.close();
    process.exit(0);
  });
}
