// Tessera Bank: a small app server that trusts Tessera for who is calling.
// - Its API is guarded by `requireAuth` from tessera/fastify (passed in as `auth`).
// - Its pages are plain HTML plus a script that uses the tessera/client SDK.
// - It forwards /auth/*, /admin* and /.well-known/* to Tessera (tessera/forward), so the browser
//   sees ONE origin: Tessera's __Host- cookies are then this origin's cookies, sent to the bank's
//   API as well, and the anti-CSRF cookie is readable by the bank's pages.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { fastifyForwardToTessera } from 'tessera/forward';

const PUBLIC = new URL('./public/', import.meta.url);
const ASSETS = {
  '/static/bank.css': ['bank.css', 'text/css; charset=utf-8'],
  '/static/common.js': ['common.js', 'text/javascript; charset=utf-8'],
  '/static/login.js': ['login.js', 'text/javascript; charset=utf-8'],
  '/static/account.js': ['account.js', 'text/javascript; charset=utf-8'],
  '/static/teller.js': ['teller.js', 'text/javascript; charset=utf-8'],
};
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
/** Paths that belong to Tessera: forwarded as they are (the console too). */
const TESSERA_PATHS = ['/auth', '/admin', '/.well-known'];

/** The SDK as one minified ES module (esbuild, from the TypeScript source). */
export async function buildSdkBundle() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
  });
  return result.outputFiles[0].text;
}

/**
 * @param {{ auth: { requireAuth: Function }, tesseraUrl: string, mode: string, sdk?: string,
 *   pollMs?: number, logger?: boolean }} options
 */
export async function buildBankApp(options) {
  const { auth, tesseraUrl, mode } = options;
  const sdk = options.sdk ?? (await buildSdkBundle());
  const pollMs = options.pollMs ?? 3000;
  const app = Fastify({ logger: options.logger ?? false });
  const { requireAuth } = auth;

  // Demo data: balances in memory, by Tessera user id.
  const balances = new Map();
  const balanceOf = (userId) => balances.get(userId) ?? 1_000_00;
  const approvals = [];

  const page = (title, script, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tessera Bank</title><link rel="stylesheet" href="/static/bank.css"></head>
<body><header><strong>Tessera Bank</strong> <span class="mode">mode: <b id="mode">${mode}</b></span>
<nav><a href="/account">Account</a> <a href="/teller">Teller desk</a> <a href="/admin">Admin console</a></nav></header>
<main data-poll-ms="${pollMs}">${body}</main>
<script type="module" src="/static/${script}"></script></body></html>`;
  const sendPage = (reply, html) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(html);

  app.get('/', async (_request, reply) => reply.redirect('/account'));
  app.get('/login', async (_request, reply) =>
    sendPage(
      reply,
      page(
        'Log in',
        'login.js',
        `<h1>Log in</h1><p id="notice" class="notice" hidden></p>
<form id="login"><label>Email <input id="email" type="email" autocomplete="username" required></label>
<label>Password <input id="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form><p id="error" class="error" role="alert"></p>`,
      ),
    ),
  );
  app.get('/account', async (_request, reply) =>
    sendPage(
      reply,
      page(
        'Account',
        'account.js',
        `<h1>Your account</h1><p>Signed in as <b id="who">…</b> <span id="roles"></span></p>
<p class="balance">Balance: <b id="balance">…</b></p>
<form id="transfer"><label>Send <input id="amount" type="number" min="1" max="1000" value="10"></label>
<button type="submit">Transfer</button></form>
<p><button id="reload" type="button">Refresh</button> <button id="logout" type="button">Log out</button>
<button id="logout-all" type="button">Log out everywhere</button> <span id="status"></span></p>
<h2>Where you are logged in</h2><table><thead><tr><th>Device</th><th>IP</th><th>Last seen</th><th></th></tr></thead>
<tbody id="devices"></tbody></table>`,
      ),
    ),
  );
  app.get('/teller', async (_request, reply) =>
    sendPage(
      reply,
      page(
        'Teller desk',
        'teller.js',
        `<h1>Teller desk</h1><p>Staff only (role <code>teller</code>). Signed in as <b id="who">…</b> <span id="roles"></span></p>
<p><button id="approve" type="button">Approve the next transfer</button></p><p id="result" role="status"></p>`,
      ),
    ),
  );
  for (const [path, [file, type]] of Object.entries(ASSETS)) {
    const content = readFileSync(new URL(file, PUBLIC), 'utf8');
    app.get(path, async (_request, reply) => reply.type(type).send(content));
  }
  app.get('/sdk.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(sdk));

  // The bank's API: every route behind requireAuth.
  app.get('/api/account', { preHandler: requireAuth() }, async (request) => ({
    balance: balanceOf(request.principal.userId),
    principal: request.principal,
  }));
  app.post('/api/transfers', { preHandler: requireAuth() }, async (request, reply) => {
    const amount = Number(request.body?.amount);
    if (!Number.isInteger(amount) || amount < 1 || amount > 1000) {
      return reply.code(400).send({ error: 'invalid_request', message: 'amount: 1 to 1000' });
    }
    const balance = balanceOf(request.principal.userId) - amount * 100;
    balances.set(request.principal.userId, balance);
    return { balance };
  });
  app.post('/api/teller/approvals', { preHandler: requireAuth({ roles: ['teller'] }) }, async (request) => {
    approvals.push({ by: request.principal.userId, at: Date.now() });
    return { approved: approvals.length };
  });

  // Tessera's routes, forwarded with the body untouched. The demo serves its own SDK bundle
  // (/sdk.js, built from the sources), so the forwarder's copy is not needed.
  await app.register(fastifyForwardToTessera, { tesseraUrl, paths: TESSERA_PATHS, clientScriptPath: false });
  return app;
}
